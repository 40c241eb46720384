#!/bin/sh
# deps.sh - what the test suite needs beyond the quick start's packages: the real IRC server and
# services the IRC tests start on 127.0.0.1 (Debian's inspircd and atheme-services, when missing;
# their system services are left stopped), Node.js and npm (from Debian, only when this machine
# has no npm: a Node.js that brings its own npm, such as NodeSource's, conflicts with Debian's npm
# package), then the npm packages the Slack, Mattermost and Discord tests use, exactly as
# tests/package-lock.json pins them. The README's test command runs it first.
set -eu
cd "$(dirname "$0")"
sudo=""
if [ "$(id -u)" != 0 ]; then sudo=sudo; fi
if [ ! -x /usr/sbin/inspircd ] || [ ! -x /usr/bin/atheme-services ]; then
    echo "tests/deps.sh: installing Debian's inspircd and atheme-services for the IRC tests" >&2
    $sudo apt-get install -y inspircd atheme-services || { $sudo apt-get update && $sudo apt-get install -y inspircd atheme-services; }
    # the tests start their own, on free ports; the packages' system services are not wanted
    if command -v systemctl >/dev/null 2>&1; then
        $sudo systemctl disable --now inspircd atheme-services >/dev/null 2>&1 || true
    fi
fi
if ! command -v npm >/dev/null 2>&1; then
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
