#!/bin/sh
# Runs one of the Node test files of this folder (node --test), after checking that Node and the
# npm packages it needs are there. Usage: run.sh FILE.test.js (PLANBOT names the binary under test)
here=$(cd "$(dirname "$0")" && pwd)
command -v node >/dev/null || { echo "node is not installed: the Mattermost tests need Node.js 18 or later: run  tests/deps.sh"; exit 1; }
if [ ! -d "$here/../node_modules/@mattermost/client" ] || [ ! -d "$here/../node_modules/ws" ]; then
    echo "the npm packages of the tests are missing: run  tests/deps.sh  in the checkout"
    exit 1
fi
exec node --test --test-reporter=spec "$here/$1"
