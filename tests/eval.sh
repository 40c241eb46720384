#!/bin/sh
# The answer-quality gate: the shared scorer on the shared development questions, with the
# targets of the issue (95% answered right, every off-topic question declined).
# Usage: eval.sh PYTHON SHARED_DIR PLANBOT. Exits 77 (skipped) when the shared folder is absent.
python=$1 shared=$2 planbot=$3
if [ ! -f "$shared/eval/score" ] || [ ! -f "$shared/eval/dev-questions.tsv" ]; then
    echo "skipped: $shared/eval is not there"
    exit 77
fi
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
"$python" "$shared/eval/score" --min-answer 0.95 --min-decline 1.0 \
    "$shared/eval/dev-questions.tsv" -- "$planbot" --db "$dir/kb.db" ask --json
