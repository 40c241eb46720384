#!/bin/bash
# End-to-end tests of the planbot command line, as a user runs it: exit statuses, first use,
# ask (argument, stdin, JSON), every kb command, bad input (malformed files, locked, read-only
# and full-disk cases), the console chat and the questions it declined.
# Usage: run.sh PATH/TO/planbot
set -u
planbot=$(realpath "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
export HOME="$work/home" USER=tester
unset PLANBOT_DB PLANBOT_CONFIG PLANBOT_PLATFORM PLANBOT_LOG_LEVEL XDG_DATA_HOME
db="$work/kb.db"
failures=0 checks=0

# check NAME STATUS PATTERN CMD...: runs CMD, wants exit STATUS and PATTERN (grep -E) in its
# stdout+stderr ("" for any output). check_in takes INPUT for its standard input after PATTERN.
run_check() {
    local name=$1 want=$2 pattern=$3 input=$4
    shift 4
    checks=$((checks + 1))
    printf '%s' "$input" | "$@" >"$work/out" 2>&1
    local got=$?
    if [ "$got" != "$want" ] || { [ -n "$pattern" ] && ! grep -Eq -- "$pattern" "$work/out"; }; then
        failures=$((failures + 1))
        echo "FAIL: $name: exit $got (want $want), pattern '$pattern'"
        sed 's/^/    | /' "$work/out" | head -20
    else
        echo "ok: $name"
    fi
}
check() { run_check "$1" "$2" "$3" "" "${@:4}"; }
check_in() { run_check "$@"; }

json_ok() { # json_ok PYTHON-EXPRESSION-ON-d < file: true when it holds for every line
    python3 -c "
import json, sys
ok = True
for line in sys.stdin:
    d = json.loads(line)
    ok = ok and bool($1)
sys.exit(0 if ok else 1)"
}

# ---- the basics ----
check "version" 0 "^planbot [0-9]+\.[0-9]+\.[0-9]+ \(SQLite" "$planbot" --version
check "help" 0 "Usage: planbot" "$planbot" --help
check "help after a command" 0 "kb add" "$planbot" kb add --help
check "help kb" 0 "kb undo N" "$planbot" help kb
check "unknown command is a usage error" 2 "unknown command \"frobnicate\"" "$planbot" frobnicate
check "unknown global value is a usage error" 2 "--db needs a value" "$planbot" ask --db
check "unknown ask option" 2 "unknown option --frob" "$planbot" --db "$db" ask --frob x
check "bad limit" 2 "--limit" "$planbot" --db "$db" ask --limit -3 army
check "unknown platform" 2 "unknown platform \"irc2\"" "$planbot" --db "$db" run --platform irc2
check "an unknown platform among several" 2 "unknown platform \"irc2\"" "$planbot" --db "$db" run \
    --platform slack --platform irc2
check "a platform named twice" 2 "platform \"slack\" is named twice" "$planbot" --db "$db" run \
    --platform slack --platform slack
check "the console beside another platform" 2 "console cannot serve beside other platforms" \
    "$planbot" --db "$db" run --platform console --platform slack
echo '{"platforms": []}' >"$work/noplat.json"
check "an empty platforms list" 2 "\"platforms\" must be an array of 1 to 16 platform names" \
    "$planbot" --config "$work/noplat.json" --db "$db" kb list
echo '{"mattermost": {"token": "secret-2"}}' >"$work/mmsecret.json"
check "a Mattermost token in the configuration is refused" 2 "set MATTERMOST_TOKEN or name a file with mattermost.token_file" \
    "$planbot" --config "$work/mmsecret.json" --db "$db" kb list
check "mattermost without a server" 2 "the server is not set: set MATTERMOST_URL" \
    env -u MATTERMOST_URL MATTERMOST_TOKEN=t "$planbot" --db "$db" run --platform mattermost
echo '{"moderators": {"slak": ["U1"]}}' >"$work/typo.json"
check "a moderator list for an unknown platform" 2 "typo.json: \"moderators.slak\": not a chat platform" \
    "$planbot" --config "$work/typo.json" --db "$db" kb list
echo '{"moderators": {"console": ["me"]}}' >"$work/consolemod.json"
check "a moderator list for the console" 2 "\"moderators.console\": not a chat platform with moderators \(the console's user is always one\)" \
    "$planbot" --config "$work/consolemod.json" --db "$db" kb list
echo '{"slack": {"bot_token": "xoxb-secret-1"}}' >"$work/secret.json"
check "a token in the configuration is refused" 2 "tokens are never read from the configuration" \
    "$planbot" --config "$work/secret.json" --db "$db" kb list
check "slack without tokens" 2 "SLACK_APP_TOKEN" \
    env -u SLACK_APP_TOKEN -u SLACK_BOT_TOKEN "$planbot" --db "$db" run --platform slack

# ---- first use from any directory creates the database with the bundled data ----
mkdir -p "$work/elsewhere"
(cd "$work/elsewhere" && "$planbot" --db "$work/new/dir/kb.db" kb list >"$work/out" 2>&1)
checks=$((checks + 1))
if [ -f "$work/new/dir/kb.db" ] && grep -q "army-cap" "$work/out" && grep -Eq "^[0-9]+ entries" "$work/out"; then
    echo "ok: first use creates the database"
else
    failures=$((failures + 1)); echo "FAIL: first use"; cat "$work/out"
fi
check "default database under HOME" 0 "600,000" "$planbot" ask "army cap"
checks=$((checks + 1))
if [ -f "$HOME/.local/share/planbot/planbot.db" ]; then echo "ok: default path"; else
    failures=$((failures + 1)); echo "FAIL: default path not created"; fi
check "PLANBOT_DB" 0 "600,000" env PLANBOT_DB="$work/env.db" "$planbot" ask "army cap"
check "--db after the command" 0 "600,000" "$planbot" ask "army cap" --db "$db"
check "--db=PATH before the command" 0 "600,000" "$planbot" --db="$db" ask "army cap"
check "directory as database" 1 "is a directory" "$planbot" --db "$work" kb list
check "no writable home: the bundled data in memory" 0 "600,000" env HOME=/proc/none "$planbot" ask "army cap"
check "and a warning" 0 "using the bundled knowledge base in memory" env HOME=/proc/none "$planbot" ask "army cap"
check "a chosen path that cannot be made is an error" 1 "cannot create the directory" "$planbot" --db /proc/none/kb.db ask "army cap"

# ---- ask ----
check "ask answers with its citation" 0 "Source: CNN, “Trump" "$planbot" --db "$db" ask "How big can Ukraine's army be?"
check "ask joins words" 0 "600,000" "$planbot" --db "$db" ask how big can the army be
check "ask declines off-topic" 0 "I don't know" "$planbot" --db "$db" ask "How do I make coffee?"
"$planbot" --db "$db" ask --json --limit 1 "What did Rubio say?" >"$work/j"
checks=$((checks + 1))
if json_ok 'd["question"] == "What did Rubio say?" and len(d["answers"]) >= 1 and len(d["answers"]) <= 2 and d["answers"][0]["speaker"] == "Marco Rubio" and d["answers"][0]["source"]["publisher"] == "CNN" and set(d["answers"][0]) >= {"id","kind","title","text","speaker","source","score"} and set(d["answers"][0]["source"]) >= {"id","title","publisher","date","url"}' <"$work/j"; then
    echo "ok: ask --json shape"; else failures=$((failures + 1)); echo "FAIL: ask --json shape"; cat "$work/j"; fi
"$planbot" --db "$db" ask --json "lol" >"$work/j"
checks=$((checks + 1))
if json_ok 'd["answers"] == [] and isinstance(d["suggestions"], list)' <"$work/j"; then
    echo "ok: declining in JSON"; else failures=$((failures + 1)); echo "FAIL: declining JSON"; cat "$work/j"; fi
printf 'army cap\nlol\n\nWhat did Peskov say?\n' | "$planbot" --db "$db" ask --json >"$work/j"
checks=$((checks + 1))
if [ "$(wc -l <"$work/j")" = 4 ] && json_ok '"answers" in d' <"$work/j"; then
    echo "ok: stdin, one JSON line per question"; else failures=$((failures + 1)); echo "FAIL: stdin JSON"; cat "$work/j"; fi
check_in "stdin, one line per answer" 0 "^\[army-cap\]" $'army cap\nlol\n' "$planbot" --db "$db" ask
python3 -c "import sys; sys.stdout.write('army cap\n' + 'x' * 102400 + '\nwhat about\x00nul\namnesty\n')" >"$work/bad-questions"
"$planbot" --db "$db" ask --json <"$work/bad-questions" >"$work/j" 2>"$work/err"
status=$?
checks=$((checks + 1))
if [ $status = 1 ] && [ "$(wc -l <"$work/j")" = 4 ] && grep -q "line 2: the question is too long" "$work/err" &&
    grep -q "line 3: the question contains a NUL byte" "$work/err" && sed -n 4p "$work/j" | grep -q amnesty; then
    echo "ok: bad questions are refused one by one, the rest answered"
else
    failures=$((failures + 1)); echo "FAIL: bad questions ($status)"; cat "$work/err" "$work/j"
fi
check "100 kB question argument" 1 "too long" "$planbot" --db "$db" ask "$(head -c 102400 /dev/zero | tr '\0' a)"
check "ask --explain" 0 "typo" "$planbot" --db "$db" ask --explain "ukrane army cap"

# ---- kb: reading ----
check "kb list" 0 "army-cap +provision" "$planbot" --db "$db" kb list
check "kb list --kind quote" 0 "quote-rubio" "$planbot" --db "$db" kb list --kind quote
check "kb list --json" 0 "\"id\":" "$planbot" --db "$db" kb list --json
check "kb show" 0 "600,000 personnel" "$planbot" --db "$db" kb show army-cap
check "kb show unknown" 1 "no entry \"nope\"" "$planbot" --db "$db" kb show nope
check "kb show without id" 2 "usage: kb show ID" "$planbot" --db "$db" kb show
check "kb search" 0 "army-cap" "$planbot" --db "$db" kb search armed forces
check "kb search with FTS syntax" 0 "" "$planbot" --db "$db" kb search 'NEAR("army' '*' "'; DROP TABLE entries; --"
check "kb source list" 0 "cnn-2025-11-20" "$planbot" --db "$db" kb source list
check "kb synonym list" 0 "kiev +→ \[\"kyiv\"\]" "$planbot" --db "$db" kb synonym list
check "sources" 0 "Natasha Bertrand" "$planbot" --db "$db" sources

# ---- kb: changing, with the audit log ----
check "kb add" 0 "Added entry \"test-entry\"" "$planbot" --db "$db" --as alice kb add --id test-entry \
    --kind context --title "A zorblax test entry" --text "The plan is still in the framework stage" \
    --source cnn-2025-11-20 --keywords "zorblax, frobnitz"
check "the new entry answers" 0 "^Source: CNN.*\[test-entry\]" "$planbot" --db "$db" ask "zorblax?"
check "kb add existing" 1 "already exists" "$planbot" --db "$db" kb add --id test-entry --kind context \
    --title T --text "The plan is still in the framework stage" --source cnn-2025-11-20
check "kb add missing source" 1 "no source \"nowhere\"" "$planbot" --db "$db" kb add --id x2 --kind context \
    --title T --text T --source nowhere
check "kb add text not in source" 1 "word for word" "$planbot" --db "$db" kb add --id x2 --kind context \
    --title T --text "Invented words" --source cnn-2025-11-20
check "kb edit" 0 "Changed entry \"test-entry\" \(change [0-9]+\): title" "$planbot" --db "$db" --as bob kb edit test-entry --title "Renamed zorblax"
check "kb edit unknown" 1 "no entry \"nope\"" "$planbot" --db "$db" kb edit nope --title x
check "kb history of an entry" 0 "edit +entry test-entry +by bob \(cli\)" "$planbot" --db "$db" kb history test-entry
check "kb history names alice" 0 "add +entry test-entry +by alice \(cli\)" "$planbot" --db "$db" kb history test-entry
edit=$("$planbot" --db "$db" kb history test-entry --json | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['change'])")
check "kb change" 0 "title: \"A zorblax test entry\" → \"Renamed zorblax\"" "$planbot" --db "$db" kb change "$edit"
check "kb undo" 0 "Undid change $edit" "$planbot" --db "$db" kb undo "$edit"
check "undone" 0 "title +A zorblax test entry" "$planbot" --db "$db" kb show test-entry
check "undo twice" 1 "already undone" "$planbot" --db "$db" kb undo "$edit"
check "kb remove" 0 "Removed entry \"test-entry\"" "$planbot" --db "$db" kb remove test-entry
check "kb remove unknown" 1 "no entry \"test-entry\"" "$planbot" --db "$db" kb remove test-entry
check "kb synonym add" 0 "Added synonym \"frobozz\"" "$planbot" --db "$db" kb synonym add frobozz amnesty
check "synonym applies" 0 "amnesty-all-parties" "$planbot" --db "$db" ask "frobozz?"
check "kb synonym remove" 0 "Removed synonym \"frobozz\"" "$planbot" --db "$db" kb synonym remove frobozz
printf 'A memo.\nIt says the zorblax plan is real.\n' >"$work/memo.txt"
check "kb source add" 0 "Added source \"memo\"" "$planbot" --db "$db" kb source add --id memo \
    --title "A memo" --publisher Team --authors "A, B" --date 2026-11-26 --text-file "$work/memo.txt"
check "kb source show" 0 "publisher +Team" "$planbot" --db "$db" kb source show memo
check "kb source bad date" 1 "field \"date\"" "$planbot" --db "$db" kb source add --id m2 --title T --date 2026-13-01
check "kb source remove cited" 1 "cited by" "$planbot" --db "$db" kb source remove cnn-2025-11-20
check "kb source remove" 0 "Removed source \"memo\"" "$planbot" --db "$db" kb source remove memo

# ---- export and import ----
check "kb export to a file" 0 "Exported to" "$planbot" --db "$db" kb export "$work/export.json"
"$planbot" --db "$db" kb export >"$work/export2.json"
check "export to stdout is the same" 0 "" cmp "$work/export.json" "$work/export2.json"
check "import into a new database: unchanged" 0 "0 added, 0 updated, 0 removed, [0-9]+ unchanged" \
    "$planbot" --db "$work/round.db" kb import "$work/export.json"
check "import --dry-run" 0 "Dry run" "$planbot" --db "$db" kb import --dry-run "$work/export.json"
check "import from stdin" 0 "unchanged" sh -c "'$planbot' --db '$db' kb import - <'$work/export.json'"
check "import --bundled" 0 "Imported" "$planbot" --db "$db" kb import --bundled
printf '{\n  "format": "planbot-kb",\n  "version": 1,\n  "entries": [\n    {"id": "x",\n' >"$work/broken.json"
check "malformed file names the line" 1 "line 5, column [0-9]+: not valid JSON" "$planbot" --db "$db" kb import "$work/broken.json"
python3 - "$work/export.json" "$work/invalid.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["entries"][3]["kind"] = "rumour"
d["entries"].append({"id": "brand-new", "kind": "context", "title": "New", "text": "x", "source": "cnn-2025-11-20"})
json.dump(d, open(sys.argv[2], "w"), indent=2, ensure_ascii=False)
PY
line=$(grep -n '"rumour"' "$work/invalid.json" | cut -d: -f1)
check "invalid record names line and field" 1 "line $line: entries\[3\]: .*field \"kind\"" "$planbot" --db "$db" kb import "$work/invalid.json"
check "invalid import changed nothing" 1 "no entry \"brand-new\"" "$planbot" --db "$db" kb show brand-new
check "import a missing file" 1 "cannot read" "$planbot" --db "$db" kb import "$work/none.json"
check "import needs a file" 2 "give a FILE" "$planbot" --db "$db" kb import
"$planbot" --db "$db" kb export >"$work/before.json"
check "export to a full disk" 1 "No space left|cannot write" "$planbot" --db "$db" kb export /dev/full

# ---- a locked database ----
python3 - "$db" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
open(sys.argv[1] + ".locked", "w").close()
time.sleep(8)
c.execute("ROLLBACK")
PY
locker=$!
for _ in $(seq 50); do [ -f "$db.locked" ] && break; sleep 0.1; done
check "a locked database is a clear error" 1 "locked by another process" "$planbot" --db "$db" kb remove army-cap
wait $locker
rm -f "$db.locked"
check "and nothing was removed" 0 "army-cap" "$planbot" --db "$db" kb show army-cap

# ---- a read-only database ----
cp "$db" "$work/ro.db"
chmod 0444 "$work/ro.db"
planbot_ro=$planbot
if [ "$(id -u)" = 0 ]; then
    # root writes anything: run planbot as nobody, for whom the file is read-only; nobody may not
    # reach the build folder (a checkout under /root), so it runs a copy from this folder
    chmod 0755 "$work"
    mkdir -m 0755 "$work/bin"
    cp "$planbot" "$work/bin/planbot"
    planbot_ro=$work/bin/planbot
    as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
else
    as_nobody() { "$@"; }
fi
check "a read-only database answers" 0 "600,000" as_nobody env HOME=/tmp "$planbot_ro" --db "$work/ro.db" ask "army cap"
check "a read-only database refuses changes" 1 "read-only" as_nobody env HOME=/tmp "$planbot_ro" --db "$work/ro.db" kb remove army-cap
"$planbot" --db "$db" kb export >"$work/after.json"
check "nothing changed meanwhile" 0 "" cmp "$work/before.json" "$work/after.json"

# ---- a file that is not a database ----
echo "hello" >"$work/not.db"
check "not a database" 1 "not a usable database|not a planbot database" "$planbot" --db "$work/not.db" kb list

# ---- the console chat ----
check_in "console answers, helps and lets its user moderate" 0 "Removed entry \"army-cap\"" \
    $'help\nHow big can Ukraine\'s army be?\nkb remove army-cap\n' "$planbot" --db "$work/console.db" run
grep -q "600,000" "$work/out" && grep -q "kb synonym add" "$work/out"
checks=$((checks + 1))
if [ $? = 0 ]; then echo "ok: console transcript"; else failures=$((failures + 1)); echo "FAIL: console transcript"; cat "$work/out"; fi
check_in "no command is run" 0 "Leavitt" $'What did Leavitt say?\n' "$planbot" --db "$work/console.db"
check_in "console multi-line kb add" 0 "Added entry \"multi\"" \
    $'kb add \\\nid: multi \\\nkind: context \\\ntitle: Multi-line zorblax \\\ntext: The plan is still in the framework stage \\\nsource: cnn-2025-11-20\n' \
    "$planbot" --db "$work/console.db" run
check_in "console refuses files" 0 "only at the command line" $'kb export\n' "$planbot" --db "$work/console.db" run
mkfifo "$work/fifo"
PLANBOT_LOG_LEVEL=debug "$planbot" --db "$work/console.db" run <"$work/fifo" >"$work/out" 2>&1 &
pid=$!
exec 3>"$work/fifo" # keep the console's input open, as a person at a terminal does
# "started" is logged once the signal handlers are in place (slow under valgrind: wait for it)
for _ in $(seq 300); do grep -q "console: started" "$work/out" && break; sleep 0.1; done
kill -TERM $pid
wait $pid
status=$?
exec 3>&-
checks=$((checks + 1))
if [ $status = 0 ]; then echo "ok: SIGTERM stops the console cleanly"; else
    failures=$((failures + 1)); echo "FAIL: SIGTERM status $status"; fi

# ---- the questions planbot declined, for moderators ----
udb="$work/unanswered.db"
check_in "the console declines questions" 0 "I don't know" \
    $'How do I make coffee?\nhow do i make   COFFEE\nWhat about sourdough?\nHow big can Ukraine\'s army be?\n' \
    "$planbot" --db "$udb" run
check "kb unanswered: most asked first, the latest wording" 0 \
    "^ +2×  how do i make COFFEE  \(last asked [0-9]+ [A-Z][a-z]+ [0-9]{4} [0-9]{2}:[0-9]{2} UTC, console\)$" \
    "$planbot" --db "$udb" kb unanswered
"$planbot" --db "$udb" kb unanswered >"$work/u"
checks=$((checks + 1))
if [ "$(grep -c '×' "$work/u")" = 2 ] && sed -n 3p "$work/u" | grep -q "1×  What about sourdough?" && ! grep -q army "$work/u"; then
    echo "ok: kb unanswered lists each declined question once"; else failures=$((failures + 1)); echo "FAIL: kb unanswered list"; cat "$work/u"; fi
check "planbot ask declines" 0 "I don't know" "$planbot" --db "$udb" ask "What about sourdough?"
check "but does not fill the list" 0 "^ +1×  What about sourdough\?" "$planbot" --db "$udb" kb unanswered
check_in "kb unanswered in the console" 0 "2×  how do i make COFFEE" $'kb unanswered\n' "$planbot" --db "$udb" run
"$planbot" --db "$udb" kb unanswered --json >"$work/j"
checks=$((checks + 1))
if python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
ok = len(d) == 2 and all(set(q) == {'question', 'count', 'first_asked', 'last_asked', 'via', 'closest'} for q in d)
ok = ok and d[0]['question'] == 'how do i make COFFEE' and d[0]['count'] == 2 and d[0]['via'] == 'console'
sys.exit(0 if ok else 1)" "$work/j"; then
    echo "ok: kb unanswered --json shape"; else failures=$((failures + 1)); echo "FAIL: kb unanswered --json"; cat "$work/j"; fi
changes=$("$planbot" --db "$udb" kb history --json | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")
check "planbot kb unanswered clear" 0 "^Cleared 2 unanswered questions\.$" "$planbot" --db "$udb" kb unanswered clear
check "the list is empty" 0 "^No unanswered questions\.$" "$planbot" --db "$udb" kb unanswered
check "clearing is not a knowledge change" 0 "^$changes$" \
    sh -c "'$planbot' --db '$udb' kb history --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'"
check "kb unanswered takes no argument" 2 "too many arguments" "$planbot" --db "$udb" kb unanswered everything
check "a read-only database lists" 0 "^No unanswered questions\.$" as_nobody env HOME=/tmp "$planbot_ro" --db "$work/ro.db" kb unanswered
check "but cannot clear" 1 "read-only" as_nobody env HOME=/tmp "$planbot_ro" --db "$work/ro.db" kb unanswered clear
check_in "and still declines in the console" 0 "I don't know" $'How do I make coffee?\n' \
    as_nobody env HOME=/tmp "$planbot_ro" --db "$work/ro.db" run

# ---- kb backup and kb check ----
bdb="$work/live.db"
"$planbot" --db "$bdb" kb list >/dev/null
check "kb check of a good database" 0 \
    "^The knowledge base is consistent: [0-9]+ entries, 1 source, [0-9]+ changes\.$" \
    "$planbot" --db "$bdb" kb check
check "kb backup" 0 "^Backed up [0-9]+ entries, 1 source and [0-9]+ changes to $work/copy\.db \([0-9]+ KiB\)\.$" \
    "$planbot" --db "$bdb" kb backup "$work/copy.db"
checks=$((checks + 1))
if [ "$(ls "$work" | grep -c '^copy\.db')" = 1 ] && [ "$(stat -c %a "$work/copy.db")" = 600 ] &&
    ! ls "$work" | grep -q '\.tmp\.'; then
    echo "ok: the backup is one file, readable by its owner only"
else
    failures=$((failures + 1)); echo "FAIL: backup files"; ls -la "$work"
fi
check "the backup opens and answers" 0 "600,000" "$planbot" --db "$work/copy.db" ask "army cap"
check "the backup is consistent" 0 "consistent" "$planbot" --db "$work/copy.db" kb check
history_len() { "$planbot" --db "$1" kb history --json --limit 100000 | python3 -c "import json,sys; print(len(json.load(sys.stdin)))"; }
check "the backup keeps the audit log" 0 "" test "$(history_len "$bdb")" = "$(history_len "$work/copy.db")"
check "kb backup only at the command line" 0 "works only at the command line" \
    sh -c "printf 'kb backup $work/chat.db\n' | '$planbot' --db '$bdb' run"
check "kb backup needs a file" 2 "usage: kb backup FILE" "$planbot" --db "$bdb" kb backup

# another process holds a write transaction open meanwhile
python3 - "$bdb" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
c.execute("UPDATE entries SET title = 'Uncommitted title' WHERE id = 'army-cap'")
open(sys.argv[1] + ".writing", "w").close()
time.sleep(8)
c.execute("ROLLBACK")
PY
writer=$!
for _ in $(seq 50); do [ -f "$bdb.writing" ] && break; sleep 0.1; done
t0=$(date +%s%N)
check "kb backup while another process writes" 0 "^Backed up" "$planbot" --db "$bdb" kb backup "$work/during.db"
check "kb check while another process writes" 0 "consistent" "$planbot" --db "$bdb" kb check
t1=$(date +%s%N)
checks=$((checks + 1))
# waiting for the writer would take its 8 s; the rest is the work itself (seconds under valgrind)
if [ $(((t1 - t0) / 1000000)) -lt 7000 ]; then echo "ok: neither waited for the writer"; else
    failures=$((failures + 1)); echo "FAIL: backup and check took $(((t1 - t0) / 1000000)) ms"; fi
wait $writer
rm -f "$bdb.writing"
"$planbot" --db "$work/during.db" kb show army-cap >"$work/out" 2>&1
checks=$((checks + 1))
if grep -q "^title" "$work/out" && ! grep -q "Uncommitted" "$work/out"; then
    echo "ok: the backup holds what was committed"; else
    failures=$((failures + 1)); echo "FAIL: backup snapshot"; cat "$work/out"; fi

# targets that would lose data, and files that cannot be written
check "kb backup refuses the database itself" 1 "is the knowledge base itself" "$planbot" --db "$bdb" kb backup "$bdb"
check "kb backup refuses its WAL" 1 "is the knowledge base itself" "$planbot" --db "$bdb" kb backup "$bdb-wal"
check "kb backup to /dev/full fails cleanly" 1 "/dev/full is not a regular file" "$planbot" --db "$bdb" kb backup /dev/full
checks=$((checks + 1))
if [ -c /dev/full ] && ! ls /dev | grep -q '^full\.tmp'; then echo "ok: /dev/full untouched"; else
    failures=$((failures + 1)); echo "FAIL: /dev/full"; ls -la /dev/full*; fi
mkdir "$work/rofolder" && chmod 0555 "$work/rofolder"
check "kb backup into a read-only folder" 1 "cannot write the backup $work/rofolder/copy\.db: its folder is read-only" \
    as_nobody env HOME=/tmp "$planbot_ro" --db "$work/ro.db" kb backup "$work/rofolder/copy.db"
check "nothing was left there" 0 "" test -z "$(ls "$work/rofolder")"
mkdir -m 0777 "$work/open"
check "a read-only database can be backed up" 0 "^Backed up" \
    as_nobody env HOME=/tmp "$planbot_ro" --db "$work/ro.db" kb backup "$work/open/copy.db"
check "a read-only database can be checked" 0 "consistent" as_nobody env HOME=/tmp "$planbot_ro" --db "$work/ro.db" kb check
mkdir "$work/tiny"
if unshare -rm sh -c "mount -t tmpfs -o size=64k tmpfs '$work/tiny'" 2>/dev/null; then
    check "kb backup to a full disk" 1 "cannot write the backup $work/tiny/copy\.db: the disk is full" \
        unshare -rm sh -c "mount -t tmpfs -o size=64k tmpfs '$work/tiny' && exec '$planbot' --db '$bdb' kb backup '$work/tiny/copy.db'"
else
    echo "skip: kb backup to a full disk (unshare -rm cannot mount a small tmpfs here)"
fi

# a database changed behind planbot's back, one problem at a time
cdb="$work/damaged.db"
"$planbot" --db "$cdb" kb list >/dev/null
damage() { # damage SQL: runs SQL with foreign keys off, as a careless tool would
    python3 - "$cdb" "$1" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("PRAGMA foreign_keys = OFF")
c.executescript(sys.argv[2])
PY
}
damage "INSERT INTO entries_fts(entries_fts, rowid, title, text, speaker, role, keywords)
        SELECT 'delete', n, title, text, speaker, role, keywords FROM entries WHERE id = 'army-cap';"
check "kb check: a row missing from the search index" 1 \
    "^  fts: the search index entries_fts does not match the entries" "$planbot" --db "$cdb" kb check
damage "UPDATE entries SET source = 'gone' WHERE id = 'army-cap';"
check "kb check: a source that does not exist" 1 \
    "^  source: entry \"army-cap\" cites source \"gone\", which does not exist$" "$planbot" --db "$cdb" kb check
damage "BEGIN; DROP TRIGGER entries_au;
        UPDATE entries SET text = 'Words the article never had.' WHERE id = 'elections-100-days';
        $(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT sql FROM sqlite_schema WHERE name = 'entries_au'\").fetchone()[0])" "$cdb");
        COMMIT;"
check "kb check: a text changed behind the triggers" 1 \
    "^  verbatim: entry \"elections-100-days\": its text is not in the text of source \"cnn-2025-11-20\"$" \
    "$planbot" --db "$cdb" kb check
check "and the index out of step" 1 "^  fts: the search index entries_words does not match" "$planbot" --db "$cdb" kb check
damage "UPDATE entries SET speaker = '' WHERE id = 'quote-rubio-potential-ideas';
        UPDATE changes SET after = '{broken' WHERE n = 3;"
check "kb check: a quote without a speaker" 1 \
    "^  entry: entry \"quote-rubio-potential-ideas\" is a quote without a speaker$" "$planbot" --db "$cdb" kb check
check "kb check: an audit log record that does not parse" 1 "^  change: change 3: its record after is not a JSON object$" \
    "$planbot" --db "$cdb" kb check
"$planbot" --db "$cdb" kb check >"$work/out" 2>"$work/err"
status=$?
checks=$((checks + 1))
if [ $status = 1 ] && [ ! -s "$work/out" ] && [ "$(grep -c '^  ' "$work/err")" = 6 ] &&
    head -1 "$work/err" | grep -Eq "^planbot: The knowledge base has 6 problems \([0-9]+ entries, 1 source, [0-9]+ changes\):$"; then
    echo "ok: kb check lists each problem on its own line, exit 1"; else
    failures=$((failures + 1)); echo "FAIL: kb check output ($status)"; cat "$work/out" "$work/err"; fi
cp "$cdb" "$work/damaged-ro.db" && chmod 0444 "$work/damaged-ro.db"
check "kb check of a read-only damaged database" 1 "^  fts: the search index entries_fts does not match" \
    as_nobody env HOME=/tmp "$planbot_ro" --db "$work/damaged-ro.db" kb check
check_in "kb check in the console" 0 "The knowledge base has 6 problems" $'kb check\n' "$planbot" --db "$cdb" run

echo "$((checks - failures))/$checks checks passed"
[ $failures = 0 ]
