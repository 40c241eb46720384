// planbot.js - starts the planbot binary on the slack platform against a fake Slack, for the
// Node tests of this folder; PLANBOT names the binary.
//
// PLANBOT_WRAPPER (optional) is a command split at spaces and put before the binary, as
// tests/valgrind.sh does with PLANBOT_WRAPPER="valgrind -q --error-exitcode=99 ...". A wrapped
// planbot fails its test when it exits 99 or valgrind printed an error or a definite or indirect
// leak: in stop(), and for runs that stop() never saw, in an after() hook of the test file.
'use strict';

const assert = require('node:assert/strict');
const { after } = require('node:test');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let nth = 0;
const wrapper = (process.env.PLANBOT_WRAPPER || '').split(' ').filter(Boolean);

// The first line of each kind of report memcheck makes, quiet (-q) or not.
const VALGRIND_ERROR = new RegExp('^==\\d+== (Invalid |Conditional jump|Use of uninitialised|' +
  'Syscall param|Mismatched |Source and destination overlap|Jump to the invalid|' +
  'Argument .* of function|.* are (definitely|indirectly) lost|ERROR SUMMARY: [1-9])', 'm');

// What a wrapper (valgrind) reported about a finished run, or null.
function wrapperReport(bot) {
  if (!wrapper.length || !bot.exited) return null;
  if (bot.exited.code === 99 || VALGRIND_ERROR.test(bot.log)) {
    return `${wrapper[0]} reported errors (exit ${bot.exited.code}):\n${bot.log}`;
  }
  return null;
}
const bots = [];
if (wrapper.length) {
  after(() => {
    for (const bot of bots) assert.equal(wrapperReport(bot), null);
  });
}

// Starts planbot with its own folder under tmp (or dir, to start again on the same database): a
// config file (platform slack, debug log, the
// settings in config), a fresh database, and the fake's URL and tokens in the environment.
// Resolves once it is connected, unless waitConnected is false. The handle has:
//   log (stdout and stderr so far), exited, done (a promise of {code, signal}), dbPath,
//   waitLog(re, ms), count(re), kill() (SIGKILL), and
//   stop(): SIGTERM, then checks that no token reached the log, that a sanitizer build reported
//   nothing, and that planbot exited 0 when it was still running; resolves {code, signal}.
async function startPlanbot(fake, { tmp, appToken, botToken, config = {}, env = {}, waitConnected = true, dir }) {
  const planbot = process.env.PLANBOT;
  if (!planbot) throw new Error('set PLANBOT to the planbot binary');
  if (!dir) {
    nth++;
    dir = path.join(tmp, `bot${nth}`);
    fs.mkdirSync(dir);
  }
  const cfg = path.join(dir, 'planbot.json');
  fs.writeFileSync(cfg, JSON.stringify({ platform: 'slack', log_level: 'debug', ...config }));
  const dbPath = path.join(dir, 'kb.db');
  const argv = [...wrapper, planbot, '--config', cfg, '--db', dbPath, 'run'];
  const child = spawn(argv[0], argv.slice(1), {
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      SLACK_API_URL: fake.apiUrl,
      SLACK_APP_TOKEN: appToken,
      SLACK_BOT_TOKEN: botToken,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const bot = { child, log: '', exited: null, dbPath, dir };
  bots.push(bot);
  child.stdout.on('data', (d) => { bot.log += d; });
  child.stderr.on('data', (d) => { bot.log += d; });
  bot.done = new Promise((resolve) => child.on('exit', (code, signal) => {
    bot.exited = { code, signal };
    resolve(bot.exited);
  }));
  bot.waitLog = async (re, ms = wrapper.length ? 60000 : 10000) => { // valgrind is slow
    const end = Date.now() + ms;
    while (!re.test(bot.log)) {
      if (Date.now() > end) throw new Error(`no log line ${re} in:\n${bot.log}`);
      if (bot.exited) throw new Error(`planbot exited ${JSON.stringify(bot.exited)}:\n${bot.log}`);
      await sleep(10);
    }
  };
  bot.count = (re) => (bot.log.match(new RegExp(re.source, 'g')) || []).length;
  bot.kill = async () => {
    if (!bot.exited) child.kill('SIGKILL');
    await bot.done;
  };
  bot.stop = async () => {
    bot.wasRunning = !bot.exited;
    if (bot.wasRunning) child.kill('SIGTERM');
    const r = await bot.done;
    assert.ok(!bot.log.includes(appToken) && !bot.log.includes(botToken), 'a token was logged');
    assert.doesNotMatch(bot.log, /AddressSanitizer|LeakSanitizer|runtime error:/);
    assert.equal(wrapperReport(bot), null);
    if (bot.wasRunning) assert.deepEqual(r, { code: 0, signal: null }, bot.log);
    return r;
  };
  // under valgrind (PLANBOT_WRAPPER) starting, with OpenSSL's certificate store, takes seconds
  if (waitConnected) await bot.waitLog(/slack: connected/, wrapper.length ? 60000 : 10000);
  return bot;
}

module.exports = { startPlanbot, sleep };
