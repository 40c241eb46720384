#!/bin/sh
# Fails when a C file of the project differs from what clang-format makes of it (.clang-format).
root=${1:-.}
cd "$root" || exit 1
command -v clang-format >/dev/null || { echo "clang-format is not installed (apt-get install clang-format)"; exit 1; }
files=$(find bot knowledge tests -name '*.c' -o -name '*.h' | grep -v '^tests/bench/.*\.json$' | sort)
status=0
for f in $files; do
    if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
        echo "not formatted: $f (run: clang-format -i $f)"
        status=1
    fi
done
[ $status -eq 0 ] && echo "$(echo "$files" | wc -l) files formatted as .clang-format says"
exit $status
