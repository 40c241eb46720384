#!/bin/bash
# Replays the Dockerfile without a Docker engine: debootstraps Debian bookworm twice, runs the
# build stage's RUN lines in one root on `git archive HEAD`, the runtime stage's in the other,
# copies planbot over and asks it a question as the unprivileged planbot user. Needs root,
# debootstrap and a Debian mirror; not part of ctest. Usage: tests/docker/replay.sh [WORKDIR]
set -euo pipefail
root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
work=${1:-$(mktemp -d)}
mirror=${MIRROR:-http://deb.debian.org/debian}
cleanup() { umount "$work/build/proc" "$work/runtime/proc" 2>/dev/null || true; }
trap cleanup EXIT

# The RUN lines of each stage, continuation lines joined.
python3 - "$root/Dockerfile" "$work" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
stages = [s for s in re.split(r"\n(?=FROM )", text) if s.startswith("FROM ")]
assert len(stages) == 2, "expected a build stage and a runtime stage"
for name, stage in zip(("build", "runtime"), stages):
    stage = re.sub(r"\\\n\s*", " ", stage)
    runs = [l[4:] for l in stage.splitlines() if l.startswith("RUN ")]
    open(f"{sys.argv[2]}/{name}.sh", "w").write("set -ex\n" + "\n".join(runs) + "\n")
PY

for stage in build runtime; do
    [ -d "$work/$stage/etc" ] || debootstrap --variant=minbase bookworm "$work/$stage" "$mirror"
    cp /etc/resolv.conf "$work/$stage/etc/"
    cp "$work/$stage.sh" "$work/$stage/stage.sh"
    mountpoint -q "$work/$stage/proc" || mount -t proc proc "$work/$stage/proc"
done
rm -rf "$work/build/src" && mkdir -p "$work/build/src"
git -C "$root" archive HEAD | tar -x -C "$work/build/src"
chroot "$work/build" /bin/bash -c "cd /src && bash /stage.sh"
chroot "$work/runtime" /bin/bash /stage.sh
cp "$work/build/src/build/planbot" "$work/runtime/usr/local/bin/planbot"
if chroot "$work/runtime" ldd /usr/local/bin/planbot | grep "not found"; then
    echo "the runtime stage lacks a library"; exit 1
fi
chroot --userspec=planbot:planbot "$work/runtime" env PLANBOT_DB=/var/lib/planbot/planbot.db \
    /usr/local/bin/planbot ask "How big can Ukraine's army be?" | grep -q "600,000 personnel"
echo "Dockerfile replayed: both stages ran, planbot answers as user planbot ($work)"
