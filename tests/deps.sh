#!/bin/sh
# deps.sh - what the test suite needs beyond the quick start's packages: Node.js and npm (from
# Debian, only when this machine has no npm: a Node.js that brings its own npm, such as
# NodeSource's, conflicts with Debian's npm package), then the npm packages the Slack tests use,
# exactly as tests/package-lock.json pins them. The README's test command runs it first.
set -eu
cd "$(dirname "$0")"
if ! command -v npm >/dev/null 2>&1; then
    sudo=""
    if [ "$(id -u)" != 0 ]; then sudo=sudo; fi
    echo "tests/deps.sh: no npm here; installing Debian's nodejs and npm" >&2
    # the quick start's apt-get update is enough, unless the lists have gone since
    $sudo apt-get install -y nodejs npm || { $sudo apt-get update && $sudo apt-get install -y nodejs npm; }
fi
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 18 ]; then
    echo "tests/deps.sh: the tests need Node.js 18 or later; this machine has $(node --version 2>/dev/null || echo none)" >&2
    exit 1
fi
npm ci --no-audit --no-fund
