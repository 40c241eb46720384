#!/bin/bash
# Runs the libFuzzer targets for a bounded time each; builds nothing.
#
# usage: tests/fuzz/run.sh BIN_DIR [SECONDS]
#   BIN_DIR  the folder holding the built targets (BUILD/tests/fuzz)
#   SECONDS  fuzzing time per target, 60 when not given
# environment:
#   FUZZ_TARGETS  the targets to run, space-separated (default: all seven)
#   FUZZ_WORK     where corpora, logs and crash inputs go (default: a new folder under /tmp)
#   FUZZ_RESUME   the FUZZ_WORK of an earlier run: its corpora are read too (longer runs in steps)
#
# For each target it first replays tests/fuzz/regressions/TARGET/* (each file once), then fuzzes a
# copy of tests/fuzz/corpus/TARGET/ (the seeds in the tree are never written) with the dictionary
# tests/fuzz/TARGET.dict. It prints the runs executed, the coverage, the corpus at the end and the
# seconds taken, and exits 1 when any target crashed, leaked, timed out, ran out of memory or
# printed a sanitizer report; the input that did it is kept in FUZZ_WORK/TARGET/artifacts/ (copy
# it to regressions/TARGET/ once the bug is fixed).
set -u
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:?usage: run.sh BIN_DIR [SECONDS]}
seconds=${2:-60}
targets=${FUZZ_TARGETS:-fuzz_slack_frame fuzz_mattermost_frame fuzz_discord_frame fuzz_irc_line fuzz_config fuzz_match fuzz_kb_import}
work=${FUZZ_WORK:-$(mktemp -d /tmp/planbot-fuzz.XXXXXX)}
mkdir -p "$work"
if [ -n "${FUZZ_RESUME:-}" ] && [ "$(cd "$FUZZ_RESUME" && pwd)" = "$(cd "$work" && pwd)" ]; then
    echo "run.sh: FUZZ_RESUME must be another folder than FUZZ_WORK (which is emptied)"
    exit 2
fi

# The longest input each target tries: frames and import files are small JSON documents in the
# seeds; a question over 4 KiB (MATCH_MAX_QUESTION) is refused, so a little more suffices.
max_len() {
    case $1 in
    fuzz_slack_frame | fuzz_mattermost_frame | fuzz_discord_frame | fuzz_irc_line) echo 16384 ;;
    fuzz_config) echo 4096 ;;
    fuzz_match) echo 4200 ;;
    fuzz_kb_import) echo 32768 ;;
    *) echo 4096 ;;
    esac
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
reports='ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|ERROR: libFuzzer|broken promise|==ERROR'

status=0
summary=""
for t in $targets; do
    exe=$bin/$t
    if [ ! -x "$exe" ]; then
        echo "run.sh: $exe is missing: build it first (cmake --build BUILD --target fuzz)"
        status=1
        continue
    fi
    tw=$work/$t
    rm -rf "$tw"
    mkdir -p "$tw/corpus" "$tw/artifacts"
    opts=(-timeout=5 -rss_limit_mb=2048 -max_len="$(max_len "$t")" -artifact_prefix="$tw/artifacts/")
    [ -f "$here/$t.dict" ] && opts+=(-dict="$here/$t.dict")
    failed=0

    # 1. the regression inputs, each once
    regs=()
    if [ -d "$here/regressions/$t" ]; then
        while IFS= read -r -d '' f; do regs+=("$f"); done \
            < <(find "$here/regressions/$t" -type f -print0 | sort -z)
    fi
    if [ ${#regs[@]} -gt 0 ]; then
        if ! "$exe" "${opts[@]}" -runs=1 "${regs[@]}" >"$tw/regressions.log" 2>&1 ||
            grep -Eq "$reports" "$tw/regressions.log"; then
            echo "== $t: a regression input fails again (log: $tw/regressions.log)"
            grep -E -A30 "$reports" "$tw/regressions.log" | head -60
            failed=1
        fi
    fi

    # 2. fuzzing, from a copy of the seeds
    cp "$here/corpus/$t/"* "$tw/corpus/" 2>/dev/null
    dirs=("$tw/corpus")
    [ -n "${FUZZ_RESUME:-}" ] && [ -d "$FUZZ_RESUME/$t/corpus" ] && dirs+=("$FUZZ_RESUME/$t/corpus")
    start=$(date +%s)
    "$exe" "${opts[@]}" -max_total_time="$seconds" -print_final_stats=1 "${dirs[@]}" \
        >"$tw/fuzz.log" 2>&1
    rc=$?
    took=$(($(date +%s) - start))
    if [ $rc -ne 0 ] || grep -Eq "$reports" "$tw/fuzz.log"; then
        echo "== $t: libFuzzer stopped with status $rc (log: $tw/fuzz.log)"
        grep -E -B2 -A40 "$reports|deadly signal|Test unit written" "$tw/fuzz.log" | head -80
        ls "$tw/artifacts/" 2>/dev/null | sed "s|^|   input kept: $tw/artifacts/|"
        failed=1
    fi

    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tw/fuzz.log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$tw/fuzz.log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$tw/fuzz.log" | tail -1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$tw/fuzz.log" | tail -1 | cut -d' ' -f2)
    files=$(find "$tw/corpus" -type f | wc -l)
    kib=$(du -sk --apparent-size "$tw/corpus" | cut -f1)
    line=$(printf '%-17s %-4s %10s runs %7s/s  cov %6s  ft %6s  corpus %5s files %6s KiB  %4ss  regressions %s' \
        "$t" "$([ $failed = 0 ] && echo ok || echo FAIL)" "${runs:-?}" "${speed:-?}" "${cov:-?}" \
        "${ft:-?}" "$files" "$kib" "$took" "${#regs[@]}")
    echo "$line"
    summary="$summary$line"$'\n'
    [ $failed = 0 ] || status=1
done

echo
echo "fuzzing summary (work folder $work):"
printf '%s' "$summary"
exit $status
