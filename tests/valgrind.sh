#!/bin/bash
# valgrind.sh - the test suite under valgrind's memcheck: every cmocka program, the Node tests that
# start planbot (slack tls and flood; mattermost e2e; discord e2e; irc e2e) and a 2,000-question
# Slack soak with faults. Not the command-line tests, the Slack e2e tests nor the fault matrices
# (Slack, Mattermost, Discord): AddressSanitizer runs them in .ci/run; under valgrind they took
# 250, 360, 200 and 130 s of CPU-bound lanes, mostly planbot starting and waiting out timeouts,
# while the soak, tls and flood tests drive the same Slack adapter code under valgrind. Any
# invalid read or write, use of uninitialised memory, bad free, or a definite or indirect leak
# fails it; memory still reachable at exit does not (a library may keep some until
# the end by design; tests/valgrind.supp says what was seen). ASan (.ci/run) finds most of the
# same bugs faster; valgrind checks the uninstrumented binary and the libraries it calls.
#
# Usage: tests/valgrind.sh BUILD_DIR
#   BUILD_DIR is configured (Debug, tests on, no sanitizers) if it has no CMakeCache.txt yet, then
#   built. The parts run in three lanes at once, of about the same length in CI (~300 s): the
#   cmocka programs (two at a time), then the Slack soak and flood tests; the Mattermost, then the
#   IRC e2e tests (~170 and ~150 s); the Discord e2e tests (the longest part, ~250 s), then the
#   Slack tls test. Each part's output is kept in BUILD_DIR/valgrind/. The paths of the checkout and
#   of BUILD_DIR must have no spaces (the valgrind command is split at spaces).
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
[ $# = 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
build=$(mkdir -p "$1" && cd "$1" && pwd)
command -v valgrind >/dev/null || { echo "valgrind is missing: apt-get install valgrind" >&2; exit 1; }
[ -d "$src/tests/node_modules/ws" ] || { echo "first run: npm ci --prefix tests" >&2; exit 1; }

if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DPLANBOT_TESTS=ON >/dev/null || exit 1
fi
if grep -q '^PLANBOT_SANITIZE:BOOL=ON' "$build/CMakeCache.txt"; then
    echo "$build is a sanitizer build: valgrind needs one without -DPLANBOT_SANITIZE=ON" >&2
    exit 1
fi
cmake --build "$build" -j"$(nproc)" >"$build/valgrind-build.log" 2>&1 ||
    { cat "$build/valgrind-build.log"; exit 1; }
shared=$(sed -n 's/^PLANBOT_SHARED:PATH=//p' "$build/CMakeCache.txt")
export PLANBOT_SOURCE="$src" PLANBOT_SHARED="${shared:-$src/../shared}"

out="$build/valgrind"
rm -rf "$out" && mkdir -p "$out" && chmod 0755 "$out"
vg=(valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
    --show-leak-kinds=definite,indirect --num-callers=30 --suppressions="$src/tests/valgrind.supp")

# part NAME CMD...: runs CMD with its output in $out/NAME.out; prints ok or FAIL with the time.
part() {
    local name=$1 t0=$SECONDS
    shift
    if "$@" >"$out/$name.out" 2>&1; then
        echo "ok   $name ($((SECONDS - t0)) s)"
    else
        echo "FAIL $name ($((SECONDS - t0)) s): see $out/$name.out"
        return 1
    fi
}

# One cmocka program: valgrind's exit status, and its report says 0 errors.
cmocka() {
    timeout 600 "${vg[@]}" --log-file="$out/$1.vg" "$build/tests/$1" &&
        grep -q "ERROR SUMMARY: 0 errors" "$out/$1.vg" || { cat "$out/$1.vg"; return 1; }
}

# wrapped NAME MIN CMD...: runs CMD with each argument @PLANBOT@ replaced by a script that runs
# planbot under valgrind, one report per process in $out/NAME-logs/. Fails when CMD fails, when
# there are fewer than MIN reports, or when one does not say 0 errors (CMD need not check the exit
# status of every run, and a test that expects a failure would take valgrind's 99 for one).
wrapped() {
    local name=$1 min=$2 rc=0 n bad a args=()
    shift 2
    local planbot="$out/$name-planbot" logs="$out/$name-logs"
    mkdir -m 1777 "$logs" # whoever planbot runs as can write its report
    printf '#!/bin/sh\nexec %s --log-file=%s/%%p.log %s "$@"\n' "${vg[*]}" "$logs" \
        "$build/planbot" >"$planbot"
    chmod 0755 "$planbot"
    for a in "$@"; do args+=("${a//@PLANBOT@/$planbot}"); done
    timeout 600 "${args[@]}" || rc=1
    n=$(find "$logs" -name '*.log' | wc -l)
    bad=$(grep -L "ERROR SUMMARY: 0 errors" "$logs"/*.log)
    echo "valgrind: $n planbot runs checked, $(echo "$bad" | grep -c .) with errors"
    [ "$n" -ge "$min" ] || { echo "valgrind: fewer than $min reports"; rc=1; }
    [ -z "$bad" ] || { cat $bad; rc=1; }
    return $rc
}

# A Node test file with planbot under valgrind: tests/slack/planbot.js reads PLANBOT_WRAPPER and
# fails the test on a report. Quiet (-q): the report, if any, is in the test's failure message.
# A failing stop() leaves that test's fake Slack open: --test-force-exit ends the file anyway.
node_test() {
    local force=
    node --help | grep -q -- --test-force-exit && force=--test-force-exit
    PLANBOT="$build/planbot" PLANBOT_WRAPPER="${vg[*]} -q" PLANBOT_TEST_CONCURRENCY=1 \
        timeout 600 node --test --test-reporter=spec $force "$src/tests/$1"
}

# The cmocka programs, two at a time (most of their time is timers and sockets, not CPU).
lane_cmocka_node() {
    local rc=0 t pids=()
    for t in "$build"/tests/test_*; do
        [ -x "$t" ] || continue
        part "$(basename "$t")" cmocka "$(basename "$t")" &
        pids+=($!)
        if [ ${#pids[@]} = 2 ]; then
            wait "${pids[0]}" || rc=1
            pids=("${pids[1]}")
        fi
    done
    for t in "${pids[@]}"; do wait "$t" || rc=1; done
    part slack_soak wrapped soak 1 node "$src/tests/bench/slack_soak.js" @PLANBOT@ \
        "$src/tests/bench/questions.txt" 2000 || rc=1
    part slack_flood node_test slack/flood.test.js || rc=1
    return $rc
}

lane_mattermost_irc() {
    local rc=0
    part mattermost_e2e node_test mattermost/e2e.test.js || rc=1
    part irc_e2e node_test irc/e2e.test.js || rc=1
    return $rc
}

lane_discord_tls() {
    local rc=0
    part discord_e2e node_test discord/e2e.test.js || rc=1
    part slack_tls node_test slack/tls.test.js || rc=1
    return $rc
}

# Three lanes on two cores: the Node tests spend much of their time waiting for timers.
t0=$SECONDS
lane_cmocka_node &
lane1=$!
lane_mattermost_irc &
lane2=$!
lane_discord_tls
rc=$?
wait $lane1 || rc=1
wait $lane2 || rc=1
echo "valgrind: $([ $rc = 0 ] && echo passed || echo FAILED) in $((SECONDS - t0)) s"
exit $rc
