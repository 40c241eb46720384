#!/bin/sh
# An answer-quality gate: the shared scorer (../shared/eval/score) on a question file, with
# floors for the share answered right and the share of off-topic questions declined.
# Usage: eval.sh PYTHON SHARED_DIR QUESTIONS MIN_ANSWER MIN_DECLINE PLANBOT
# Exits 77 (skipped) when the scorer or the question file is absent.
python=$1 shared=$2 questions=$3 min_answer=$4 min_decline=$5 planbot=$6
for f in "$shared/eval/score" "$questions"; do
    if [ ! -f "$f" ]; then
        echo "skipped: $f is not there"
        exit 77
    fi
done
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
"$python" "$shared/eval/score" --min-answer "$min_answer" --min-decline "$min_decline" \
    "$questions" -- "$planbot" --db "$dir/kb.db" ask --json
