#!/bin/sh
# Runs one of the Node test files of this folder (node --test), after checking that Node and the
# npm packages it needs are there. Usage: run.sh FILE.test.js
here=$(cd "$(dirname "$0")" && pwd)
command -v node >/dev/null || { echo "node is not installed: the Discord tests need Node.js 18 or later: run  tests/deps.sh"; exit 1; }
for pkg in discord.js @discordjs/ws @discordjs/rest ws; do
    if [ ! -d "$here/../node_modules/$pkg" ]; then
        echo "the npm packages of the tests are missing ($pkg): run  tests/deps.sh  in the checkout"
        exit 1
    fi
done
exec node --test --test-reporter=spec "$here/$1"
