#!/bin/sh
# Keeps the README true: its package list is the one .ci/run and the Dockerfile's build stage
# install, and .ci/run runs the README's test command word for word. Usage: check-docs.sh ROOT
root=${1:-.}
cd "$root" || exit 1
status=0
packages() { # the words after "apt-get install -y" on the first such line of a file
    grep -m1 -o 'apt-get install -y [^&\\]*' "$1" | sed 's/apt-get install -y //; s/--no-install-recommends//' |
        tr ' ' '\n' | grep -v '^$' | sort | tr '\n' ' '
}
readme=$(packages README.md)
for f in .ci/run Dockerfile; do
    if [ "$(packages "$f")" != "$readme" ]; then
        echo "$f installs: $(packages "$f")"
        echo "README installs: $readme"
        status=1
    fi
done
test_cmd=$(grep -m1 'ctest --test-dir' README.md | sed 's/^ *//')
if [ -z "$test_cmd" ] || ! grep -qF -- "$test_cmd" .ci/run; then
    echo "the README's test command is not in .ci/run: $test_cmd"
    status=1
fi
[ $status = 0 ] && echo "README, .ci/run and Dockerfile agree: $readme"
exit $status
