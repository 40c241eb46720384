#!/bin/bash
# fresh/run.sh - the README's two commands, word for word, as a new user runs them on a bare
# Debian 12: in a freshly debootstrapped bookworm root, as root (so without "sudo", as the README
# says), in a checkout under /root (`git archive HEAD`, with ../shared beside it as on every
# developer's machine). The first command must install, build and start planbot in the terminal,
# which is asked one question; the second must run the whole test suite, and pass. Nothing from
# this machine reaches the root but the checkout: not its Node.js, not its npm, not its packages.
#
#   tests/fresh/run.sh [prepare|quick|tests|check|all] [WORKDIR]
#
# "prepare" only debootstraps WORKDIR/root (network and disk, little CPU: .ci/run starts it in the
# background early); "quick" runs the quick-start command in it (it installs and builds: .ci/run
# lets it run beside the fuzzers), "tests" the test command after it; "check" both, "all" (the
# default) everything. Needs root, debootstrap, and a Debian mirror (MIRROR, default
# http://deb.debian.org/debian). Not part of ctest: it takes about five minutes.
set -euo pipefail
stage=${1:-all}
here=$(cd "$(dirname "$0")" && pwd)
top=$(git -C "$here" rev-parse --show-toplevel)
work=${2:-${TMPDIR:-/tmp}/planbot-fresh}
mirror=${MIRROR:-http://deb.debian.org/debian}
root=$work/root
case $stage in prepare | quick | tests | check | all) ;; *)
    echo "usage: $0 [prepare|quick|tests|check|all] [WORKDIR]" >&2
    exit 2
    ;;
esac
if [ "$(id -u)" != 0 ]; then
    echo "$0: needs root (debootstrap, chroot)" >&2
    exit 2
fi

prepare() {
    if [ -f "$root/.debootstrapped" ]; then
        return
    fi
    unmount # a run stopped halfway may have left the machine's /dev bound in it
    rm -rf "$root"
    mkdir -p "$work"
    debootstrap --variant=minbase --include=ca-certificates bookworm "$root" "$mirror" \
        >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log"; exit 1; }
    touch "$root/.debootstrapped"
}

unmount() {
    for m in dev proc; do
        if mountpoint -q "$root/$m"; then umount -R "$root/$m" || umount -lR "$root/$m"; fi
    done
}

# The first two ```sh blocks of the README: the quick start, then the test command.
readme_command() {
    awk -v want="$1" '/^```sh$/ { n++; inblock = 1; next } /^```$/ { inblock = 0 }
        inblock && n == want { print }' "$top/README.md"
}

# The commands run in the root: as root, a login shell's environment, nothing of ours.
in_root() {
    chroot "$root" env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        LANG=C.UTF-8 TERM=dumb NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
        ${http_proxy:+http_proxy=$http_proxy} ${https_proxy:+https_proxy=$https_proxy} bash -c "$1"
}

mount_root() {
    trap unmount EXIT
    mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
    mountpoint -q "$root/dev" || mount --rbind /dev "$root/dev"
}

# The checkout (HEAD), ../shared, the network's settings; then the quick-start command, which
# must end with planbot answering a question in the terminal.
quick() {
    local quick
    quick=$(readme_command 1)
    [ -n "$quick" ] || { echo "$0: the README has no quick-start command" >&2; exit 1; }
    mount_root
    # The network's settings, as this machine's administrator made them: its name server, and the
    # certificate authorities it adds for the network (a proxy that inspects TLS, through which
    # npm reaches its registry). Nothing else of this machine.
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
        cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
        chroot "$root" update-ca-certificates >/dev/null
    fi
    rm -rf "$root/root/work"
    mkdir -p "$root/root/work/main"
    git -C "$top" archive HEAD | tar -x -C "$root/root/work/main"
    if [ -d "$top/../shared" ]; then
        cp -a -L "$top/../shared" "$root/root/work/shared"
        rm -rf "$root/root/work/shared/peers/bolt/node_modules"
    fi
    # As root, the README says, without sudo.
    printf '%s\n' "${quick//sudo /}" >"$root/root/quick-start.sh"
    echo "fresh Debian 12: the quick-start command" >&2
    printf "How big can Ukraine's army be?\n" |
        in_root 'cd /root/work/main && bash -e /root/quick-start.sh' >"$work/quick-start.log" 2>&1 ||
        { tail -40 "$work/quick-start.log"; echo "FAIL: the quick-start command failed" >&2; exit 1; }
    if ! grep -q "600,000 personnel" "$work/quick-start.log"; then
        tail -40 "$work/quick-start.log"
        echo "FAIL: the quick-start command did not start planbot answering in the terminal" >&2
        exit 1
    fi
}

# The test command, in the checkout the quick start built.
tests() {
    local tests
    tests=$(readme_command 2)
    [ -n "$tests" ] || { echo "$0: the README has no test command" >&2; exit 1; }
    [ -x "$root/root/work/main/build/planbot" ] || { echo "$0: run the quick stage first" >&2; exit 1; }
    mount_root
    printf '%s\n' "${tests//sudo /}" >"$root/root/test.sh"
    echo "fresh Debian 12: the test command" >&2
    in_root 'cd /root/work/main && bash -e /root/test.sh' >"$work/test.log" 2>&1 ||
        { grep -E "tests passed|Failed|FAIL|\*\*\*" "$work/test.log" | tail -40; tail -60 "$work/test.log"
          echo "FAIL: the test command failed in a fresh Debian 12 ($work/test.log)" >&2; exit 1; }
    grep -E "tests passed" "$work/test.log" >&2
    echo "fresh Debian 12: node $(in_root 'node --version'), both README commands passed" >&2
}

case $stage in
prepare) prepare ;;
quick) quick ;;
tests) tests ;;
check) quick && tests ;;
all) prepare && quick && tests ;;
esac
