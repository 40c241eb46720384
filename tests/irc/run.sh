#!/bin/sh
# Runs one of the Node test files of this folder (node --test), after checking that Node, the
# IRC server and the services the tests start are installed. Usage: run.sh FILE.test.js (PLANBOT
# names the binary under test)
here=$(cd "$(dirname "$0")" && pwd)
command -v node >/dev/null || { echo "node is not installed: the IRC tests need Node.js 18 or later: run  tests/deps.sh"; exit 1; }
for bin in /usr/sbin/inspircd /usr/bin/atheme-services; do
    [ -x "$bin" ] || { echo "$bin is missing: the IRC tests run a real server (Debian's inspircd and atheme-services): run  tests/deps.sh"; exit 1; }
done
exec node --test --test-reporter=spec "$here/$1"
