#!/bin/sh
# run.sh - the planbot benchmark in one command; `cmake --build build --target bench` runs it.
#
#   tests/bench/run.sh PLANBOT BENCH_ASK [BENCH_PROC]
#
# For the bundled knowledge base and a synthetic one of BENCH_ENTRIES entries (default 100000)
# it reports, as a Markdown table: ask latency p50/p99 and questions per second (bench_ask over
# the question file, in one process), startup (median wall time of 20 runs of a one-question
# `planbot ask`) and peak memory (maximum RSS of `planbot ask --json` over the question file).
# The question file is tests/bench/questions.txt plus the shared development questions when
# the shared folder exists (PLANBOT_SHARED, default ../shared beside the project).
#
# The synthetic database takes a while to build, so it is kept in BENCH_CACHE (default: the
# folder of BENCH_ASK) and built again only when bench_ask is newer than it.
# The figures are measured, not asserted: the exit status is 0 whenever the benchmark ran,
# even when a target is missed; the report says so.
set -eu

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    echo "usage: $0 PLANBOT BENCH_ASK [BENCH_PROC]" >&2
    exit 2
fi
planbot=$1
bench_ask=$2
bench_proc=${3:-$(dirname "$bench_ask")/bench_proc}
here=$(cd "$(dirname "$0")" && pwd)
shared=${PLANBOT_SHARED:-$here/../../../shared}
entries=${BENCH_ENTRIES:-100000}
cache=${BENCH_CACHE:-$(dirname "$bench_ask")}
startup_runs=20
startup_question="How big can Ukraine's army be?"
p99_target_us=1000
rss_target_mib=32

if [ -d "$shared" ]; then
    shared=$(cd "$shared" && pwd)
fi
for exe in "$planbot" "$bench_ask" "$bench_proc"; do
    if [ ! -x "$exe" ]; then
        echo "run.sh: $exe is not an executable" >&2
        exit 2
    fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/planbot-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# The questions: their first column, without comments and empty lines.
questions=$tmp/questions.txt
dev=$shared/eval/dev-questions.tsv
described="tests/bench/questions.txt"
if [ -f "$dev" ]; then
    described="$described and $dev"
fi
{
    cut -f1 "$here/questions.txt"
    if [ -f "$dev" ]; then cut -f1 "$dev"; fi
} | grep -v -e '^#' -e '^[[:space:]]*$' >"$questions"
nquestions=$(wc -l <"$questions")

# value KEY FILE: the value of a "key value" line of bench_ask or bench_proc output.
value() {
    awk -v k="$1" '$1 == k { print $2; exit }' "$2"
}

# The knowledge bases: the bundled one, new; the synthetic one, from the cache.
bundled_db=$tmp/bundled.db
"$planbot" --db "$bundled_db" ask "planbot" >/dev/null

synthetic_db=$cache/synthetic-$entries.db
built=""
if [ ! -f "$synthetic_db" ] || [ -n "$(find "$bench_ask" -newer "$synthetic_db")" ]; then
    echo "Building a synthetic knowledge base of $entries entries in $synthetic_db ..." >&2
    rm -f "$synthetic_db" "$synthetic_db-wal" "$synthetic_db-shm" "$synthetic_db.new"
    "$bench_ask" --synthesize "$entries" --db "$synthetic_db.new" >"$tmp/synth.txt"
    mv "$synthetic_db.new" "$synthetic_db"
    built=$(value import_s "$tmp/synth.txt")
fi

# measure NAME DB: runs every measurement of one knowledge base into $tmp/NAME-*.txt.
measure() {
    echo "Measuring $1 ..." >&2
    "$bench_ask" --db "$2" --questions "$questions" >"$tmp/$1-ask.txt"
    "$bench_proc" time "$startup_runs" -- "$planbot" --db "$2" ask "$startup_question" \
        >"$tmp/$1-start.txt"
    "$bench_proc" rss "$questions" -- "$planbot" --db "$2" ask --json >"$tmp/$1-rss.txt"
}
measure bundled "$bundled_db"
measure synthetic "$synthetic_db"

mib() {
    awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'
}

row() {
    f=$tmp/$1
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$2" "$(value entries "$f-ask.txt")" \
        "$(value p50_us "$f-ask.txt")" "$(value p99_us "$f-ask.txt")" \
        "$(value max_us "$f-ask.txt")" "$(value qps "$f-ask.txt")" \
        "$(value median_ms "$f-start.txt")" "$(mib "$(value maxrss_kb "$f-rss.txt")")"
}

# verdict VALUE TARGET: "met" when VALUE < TARGET.
verdict() {
    awk -v v="$1" -v t="$2" 'BEGIN { print (v + 0 < t + 0) ? "met" : "MISSED" }'
}

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
ram=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576; exit }' /proc/meminfo 2>/dev/null || true)

echo
echo "## planbot benchmark"
echo
echo "- planbot: $("$planbot" --version | sed -n '1s/ (SQLite \([^,]*\),.*/, SQLite \1/p')"
echo "- build type: ${BENCH_BUILD_TYPE:-unknown}"
echo "- machine: ${cpu:-unknown CPU}, $(nproc) cores, ${ram:-unknown RAM}, $(uname -sr)"
echo "- questions: $nquestions ($described), answered $(value rounds "$tmp/bundled-ask.txt") and" \
    "$(value rounds "$tmp/synthetic-ask.txt") times after one cold pass" \
    "($(value asked "$tmp/bundled-ask.txt") and $(value asked "$tmp/synthetic-ask.txt") timed)"
if [ -n "$built" ]; then
    echo "- synthetic knowledge base built now: $(value document_mb "$tmp/synth.txt") MB" \
        "export document, kb_import took ${built} s"
fi
echo "- synthetic knowledge base: $synthetic_db"
echo
echo "| knowledge base | entries | ask p50 (µs) | ask p99 (µs) | ask max (µs) | questions/s" \
    "| startup (ms, median of $startup_runs) | peak RSS (MiB) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
row bundled "bundled"
row synthetic "synthetic $entries"
echo
echo "Ask latency is match_ask plus the JSON reply, in one process with warm caches;" \
    "the cold pass (each question once, first in the process) gave p50/p99:" \
    "bundled $(value cold_p50_us "$tmp/bundled-ask.txt")/$(value cold_p99_us "$tmp/bundled-ask.txt") µs," \
    "synthetic $(value cold_p50_us "$tmp/synthetic-ask.txt")/$(value cold_p99_us "$tmp/synthetic-ask.txt") µs." \
    "Of the mean, match_ask took $(value match_mean_us "$tmp/bundled-ask.txt") and" \
    "$(value match_mean_us "$tmp/synthetic-ask.txt") µs, the JSON reply" \
    "$(value reply_mean_us "$tmp/bundled-ask.txt") and $(value reply_mean_us "$tmp/synthetic-ask.txt") µs." \
    "Startup is one \`planbot --db DB ask \"$startup_question\"\`;" \
    "peak RSS is \`planbot --db DB ask --json\` over the question file."
echo
p99=$(value p99_us "$tmp/synthetic-ask.txt")
rss=$(mib "$(value maxrss_kb "$tmp/bundled-rss.txt")")
echo "Targets:"
echo "- p99 under $p99_target_us µs at $entries entries: $p99 µs, $(verdict "$p99" "$p99_target_us")"
echo "- peak memory under $rss_target_mib MiB with the bundled data: $rss MiB," \
    "$(verdict "$rss" "$rss_target_mib")"
echo
for kb in bundled synthetic; do
    echo "Slowest questions, $kb (mean µs):"
    awk '$1 == "slowest_us" { $1 = ""; print "-" $0 }' "$tmp/$kb-ask.txt"
done

# Through the fake Slack (tests/slack/fake_slack.js): needs Node.js and `npm ci --prefix tests`.
slack_p99_target_us=5000
if command -v node >/dev/null && [ -d "$here/../node_modules/ws" ]; then
    node "$here/slack_bench.js" "$planbot" "$questions" >"$tmp/slack.txt"
    echo
    echo "Through the fake Slack on 127.0.0.1, pacing off, the bundled knowledge base:" \
        "time from an envelope sent on the socket to its reply's chat.postMessage received," \
        "$(value latency_n "$tmp/slack.txt") questions one at a time; questions per second with" \
        "$(value window "$tmp/slack.txt") in flight over 50 channels" \
        "($(value throughput_n "$tmp/slack.txt") questions); planbot's peak RSS over both runs."
    echo
    echo "| p50 (µs) | p99 (µs) | max (µs) | questions/s | peak RSS (MiB) | unacknowledged |"
    echo "|---:|---:|---:|---:|---:|---:|"
    echo "| $(value p50_us "$tmp/slack.txt") | $(value p99_us "$tmp/slack.txt")" \
        "| $(value max_us "$tmp/slack.txt") | $(value qps "$tmp/slack.txt")" \
        "| $(mib "$(value peak_rss_kb "$tmp/slack.txt")") | $(value unacked "$tmp/slack.txt") |"
    slack_p99=$(value p99_us "$tmp/slack.txt")
    slack_rss=$(mib "$(value peak_rss_kb "$tmp/slack.txt")")
    echo
    echo "- p99 under $slack_p99_target_us µs through Slack: $slack_p99 µs," \
        "$(verdict "$slack_p99" "$slack_p99_target_us")"
    echo "- memory under $rss_target_mib MiB while serving Slack: $slack_rss MiB," \
        "$(verdict "$slack_rss" "$rss_target_mib")"
else
    echo
    echo "The Slack benchmark was skipped: it needs Node.js and \`npm ci --prefix tests\`."
fi

# Through the fake Mattermost (tests/mattermost/fake_mattermost.js), the same way.
if command -v node >/dev/null && [ -d "$here/../node_modules/@mattermost/client" ]; then
    node "$here/mattermost_bench.js" "$planbot" "$questions" >"$tmp/mattermost.txt"
    m=$tmp/mattermost.txt
    echo
    echo "Through the fake Mattermost on 127.0.0.1, pacing off, the bundled knowledge base: time" \
        "from a posted event sent on the socket to its reply's POST /api/v4/posts received," \
        "$(value latency_n "$m") questions one at a time; questions per second and CPU with" \
        "$(value window "$m") in flight over 50 channels ($(value throughput_n "$m") questions)."
    echo
    echo "| p50 (µs) | p99 (µs) | max (µs) | questions/s | CPU ms per 1,000 | peak RSS (MiB) |"
    echo "|---:|---:|---:|---:|---:|---:|"
    echo "| $(value p50_us "$m") | $(value p99_us "$m") | $(value max_us "$m")" \
        "| $(value qps "$m") | $(value cpu_ms_per_1000 "$m") | $(mib "$(value peak_rss_kb "$m")") |"
else
    echo
    echo "The Mattermost benchmark was skipped: it needs Node.js and \`npm ci --prefix tests\`."
fi

# Through the fake Discord (tests/discord/fake_discord.js), beside the smallest discord.js bot
# (discord_peer.js: replies "ok", looks nothing up) on the same fake, in this one run.
if command -v node >/dev/null && [ -d "$here/../node_modules/discord.js" ]; then
    node "$here/discord_bench.js" "$planbot" "$questions" >"$tmp/discord.txt"
    d=$tmp/discord.txt
    echo
    echo "Through the fake Discord on 127.0.0.1, its rate limits lifted (and planbot's and" \
        "discord.js's own), the bundled knowledge base: time from a MESSAGE_CREATE sent on the" \
        "Gateway to its reply's POST received, $(value latency_n "$d") questions one at a time;" \
        "questions per second and CPU with $(value window "$d") in flight over 50 direct" \
        "messages ($(value throughput_n "$d") questions). The discord.js bot replies \"ok\" and looks" \
        "nothing up: any discord.js bot costs at least what it does."
    echo
    echo "| bot | p50 (µs) | p99 (µs) | max (µs) | questions/s | CPU ms per 1,000 | peak RSS (MiB) |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    echo "| planbot | $(value p50_us "$d") | $(value p99_us "$d") | $(value max_us "$d")" \
        "| $(value qps "$d") | $(value cpu_ms_per_1000 "$d") | $(mib "$(value peak_rss_kb "$d")") |"
    echo "| discord.js, replying \"ok\" | $(value peer_p50_us "$d") | $(value peer_p99_us "$d")" \
        "| $(value peer_max_us "$d") | $(value peer_qps "$d") | $(value peer_cpu_ms_per_1000 "$d")" \
        "| $(mib "$(value peer_peak_rss_kb "$d")") |"
else
    echo
    echo "The Discord benchmark was skipped: it needs Node.js and \`npm ci --prefix tests\`."
fi

# Side by side with the Bolt peer (../shared/peers/bolt: Slack's official framework, Bolt for JS,
# with SQLite FTS5), through the same fake Slack, in this one run; and planbot at 0, 200,000 and
# 1,000,000 settled questions of history. The peer's npm packages are installed on first use.
bench_seed=$(dirname "$bench_ask")/bench_seed
peer=$shared/peers/bolt
if command -v node >/dev/null && [ -d "$here/../node_modules/ws" ] && [ -x "$bench_seed" ]; then
    if [ -d "$peer" ] && [ ! -d "$peer/node_modules/@slack/bolt" ] && command -v npm >/dev/null; then
        echo "Installing the Bolt peer's packages (npm ci --prefix $peer) ..." >&2
        npm ci --prefix "$peer" --no-audit --no-fund >&2 || echo "run.sh: the peer's npm ci failed" >&2
    fi
    node "$here/slack_compare.js" --planbot "$planbot" --seed "$bench_seed" --questions "$questions" \
        --peer "$peer" --burst "${BENCH_BURST:-5000}" --rounds "${BENCH_ROUNDS:-25}" \
        >"$tmp/compare.txt"
    c=$tmp/compare.txt
    echo
    echo "Side by side through the fake Slack on 127.0.0.1: $(value rounds "$c") bursts of" \
        "$(value burst "$c") questions sent at once over 50 channels, after 300 to warm up; the" \
        "medians of questions/s and CPU time (user + kernel, all threads, /proc/PID/stat) per" \
        "1,000 questions; peak RSS (VmHWM). planbot with pacing and the flood limit off, log" \
        "level warn; its inbox seeded with settled questions of the last day and" \
        "$(value unanswered "$c") declined ones."
    echo
    echo "| bot | history in the inbox | questions/s | CPU ms per 1,000 (kernel) | peak RSS (MiB) |"
    echo "|---|---:|---:|---:|---:|"
    if [ -n "$(value peer_qps "$c")" ]; then
        echo "| Bolt for JS peer | — | $(value peer_qps "$c") | $(value peer_cpu_ms_per_1000 "$c")" \
            "($(value peer_sys_ms_per_1000 "$c")) | $(mib "$(value peer_peak_rss_kb "$c")") |"
    fi
    for h in 0 200000 1000000; do
        echo "| planbot | $h | $(value "planbot_${h}_qps" "$c") | $(value "planbot_${h}_cpu_ms_per_1000" "$c")" \
            "($(value "planbot_${h}_sys_ms_per_1000" "$c")) | $(mib "$(value "planbot_${h}_peak_rss_kb" "$c")") |"
    done
    echo
    awk '
        $1 ~ /^planbot_[0-9]+_qps$/ { q[++nq] = $2 }
        $1 ~ /^planbot_[0-9]+_cpu_ms_per_1000$/ { c[++nc] = $2 }
        $1 == "peer_qps" { pq = $2 }
        $1 == "peer_cpu_ms_per_1000" { pc = $2 }
        $1 == "peer_peak_rss_kb" { pr = $2 }
        $1 == "planbot_0_peak_rss_kb" { r0 = $2 }
        function spread(a, n,   i, lo, hi) {
            lo = hi = a[1]
            for (i = 2; i <= n; i++) { if (a[i] < lo) lo = a[i]; if (a[i] > hi) hi = a[i] }
            return (hi - lo) / lo * 100
        }
        function verdict(ok) { return ok ? "met" : "MISSED" }
        END {
            sq = spread(q, nq); sc = spread(c, nc)
            printf "- constant cost whatever the history: questions/s within %.0f%%, CPU per question within %.0f%% (target: 20%%): %s\n", sq, sc, verdict(sq <= 20 && sc <= 20)
            if (pq) {
                printf "- CPU per question, the peer over planbot: %.1fx (target: 10x): %s\n", pc / c[1], verdict(pc / c[1] >= 10)
                printf "- peak RSS, the peer over planbot: %.1fx (target: 8x): %s\n", pr / r0, verdict(pr / r0 >= 8)
                printf "- a burst answered, planbot over the peer: %.1fx as fast (target: 1x): %s\n", q[1] / pq, verdict(q[1] >= pq)
            } else {
                print "- the peer was not measured: it needs `npm ci --prefix ../shared/peers/bolt`"
            }
        }' "$c"
else
    echo
    echo "The side-by-side benchmark was skipped: it needs Node.js, \`tests/deps.sh\` and bench_seed."
fi

# Side by side on IRC (tests/bench/irc_compare.js): planbot, Limnoria with Factoids and errbot with
# an FTS5 plugin, on one real inspircd with atheme on 127.0.0.1 (tests/deps.sh installs those);
# Limnoria and errbot are installed from Debian on first use, as the Bolt peer's packages are.
if command -v node >/dev/null && [ -x /usr/sbin/inspircd ] && [ -x /usr/bin/atheme-services ] &&
    [ -f "$dev" ]; then
    if ! command -v supybot >/dev/null || [ ! -x /usr/bin/errbot ]; then
        echo "Installing Debian's limnoria and errbot for the IRC comparison ..." >&2
        sudo=""
        if [ "$(id -u)" != 0 ]; then sudo=sudo; fi
        $sudo apt-get install -y limnoria errbot >&2 || echo "run.sh: limnoria and errbot could not be installed" >&2
    fi
    node "$here/irc_compare.js" --planbot "$planbot" --questions "$dev" --score "$shared/eval/score" \
        --article "$shared/source/plan-article.txt" --rounds "${BENCH_IRC_ROUNDS:-5}" >"$tmp/irc.txt"
    i=$tmp/irc.txt
    echo
    echo "Side by side on IRC, one inspircd with atheme on 127.0.0.1, each bot in one channel with" \
        "a line every 50 ms: the $(value questions "$i") development questions asked one at a time" \
        "(answer quality, scored by eval/score), then all at once $(value rounds "$i") times (CPU," \
        "all threads' on-CPU time from schedstat, less what the bot spends idle as long); peak RSS."
    echo
    echo "| bot | answered right | off-topic declined | CPU ms per question | idle CPU ms per s | peak RSS (MiB) |"
    echo "|---|---:|---:|---:|---:|---:|"
    for b in planbot limnoria errbot; do
        if [ -n "$(value "${b}_answered" "$i")" ]; then
            echo "| $b | $(value "${b}_answered" "$i") | $(value "${b}_declined" "$i")" \
                "| $(value "${b}_cpu_ms_per_question" "$i") | $(value "${b}_idle_cpu_ms_per_s" "$i")" \
                "| $(mib "$(value "${b}_peak_rss_kb" "$i")") |"
        else
            echo "| $b | skipped: $(sed -n "s/^${b}_skipped //p" "$i") | | | | |"
        fi
    done
else
    echo
    echo "The IRC comparison was skipped: it needs Node.js, inspircd and atheme-services" \
        "(tests/deps.sh) and the shared development questions."
fi
