// planbot.js - starts the planbot binary on the slack platform against a fake Slack, for the
// Node tests of this folder; PLANBOT names the binary.
'use strict';

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let nth = 0;

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
  const child = spawn(planbot, ['--config', cfg, '--db', dbPath, 'run'], {
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
  child.stdout.on('data', (d) => { bot.log += d; });
  child.stderr.on('data', (d) => { bot.log += d; });
  bot.done = new Promise((resolve) => child.on('exit', (code, signal) => {
    bot.exited = { code, signal };
    resolve(bot.exited);
  }));
  bot.waitLog = async (re, ms = 10000) => {
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
    if (bot.wasRunning) assert.deepEqual(r, { code: 0, signal: null }, bot.log);
    return r;
  };
  if (waitConnected) await bot.waitLog(/slack: connected/);
  return bot;
}

module.exports = { startPlanbot, sleep };
