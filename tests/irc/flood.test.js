// flood.test.js - a burst of questions on a server with its real flood protection (inspircd's
// fakelag and command rate, server.js { flood: true }): planbot answers every one, paced by its
// line bucket, and the server never has to disconnect it for flooding. The control run proves the
// server does enforce the limit: a bucket far faster than it gets planbot cut off.
// Run: PLANBOT=build/planbot node --test tests/irc/flood.test.js
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startIrc, sleep } = require('./server');
const { IrcClient } = require('./client');
const { startPlanbot } = require('../slack/planbot');

const CHANNEL = '#flood';
const ASKERS = 3;
const EACH = 4;
// questions the bundled knowledge base answers, each with its quote and its "Source:" line
const QUESTIONS = ["How big can Ukraine's army be?", 'Would Ukraine have to leave Donetsk?', 'What did Rubio say?',
  'Could Ukraine join NATO?', 'What happens to Crimea?', 'What did Zelensky say?'];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'planbot-irc-flood-'));
let irc;

before(async () => { irc = await startIrc({ flood: true }); });
after(async () => {
  if (irc) await irc.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function run(settings, each = EACH) {
  const bot = await startPlanbot({ apiUrl: 'http://127.0.0.1:9/' }, {
    tmp,
    appToken: 'unused-app-token',
    botToken: 'unused-bot-token',
    config: { platform: 'irc', irc: { channels: [CHANNEL], ...settings } },
    env: { IRC_URL: `irc://127.0.0.1:${irc.port}` },
    waitConnected: false,
  });
  await bot.waitLog(new RegExp(`irc: joined ${CHANNEL}`), 20000);
  const askers = [];
  for (let i = 0; i < ASKERS; i++) {
    const c = new IrcClient();
    await c.connect({ port: irc.port, nick: `asker${i}` });
    c.send(`JOIN ${CHANNEL}`);
    askers.push(c);
  }
  await sleep(1500); // the joins go through the server's own pacing
  // every asker at once: ASKERS x each questions, each answered with a quote and its source
  for (let k = 0; k < each; k++) {
    for (const c of askers) c.send(`PRIVMSG ${CHANNEL} :planbot: ${QUESTIONS[k % QUESTIONS.length]}`);
  }
  return { bot, askers };
}

// The answers asker c has had: their "Source:" lines, one per answer.
const answers = (c) => c.lines.filter((m) => m.command === 'PRIVMSG' && m.nick === 'planbot' &&
  m.params[1].startsWith(`${c.nick}: Source:`)).length;

test('a burst of questions is answered in full under the server flood limit, nothing lost', async () => {
  const { bot, askers } = await run({}); // the default bucket: 4 lines, then one a second
  try {
    const watcher = askers[0];
    const started = Date.now();
    const end = started + 120000;
    while (askers.some((c) => answers(c) < EACH) && Date.now() < end && !bot.log.includes('irc: disconnected')) await sleep(200);
    for (const c of askers) assert.equal(answers(c), EACH, `${c.nick} had ${answers(c)} answers of ${EACH}\n${bot.log}`);
    assert.doesNotMatch(bot.log, /irc: disconnected|RecvQ exceeded|Excess Flood/);
    const lines = watcher.lines.filter((m) => m.nick === 'planbot' && m.command === 'PRIVMSG').length;
    assert.ok(lines >= ASKERS * EACH * 2, `${lines} lines`);
    console.log(`# ${lines} lines in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    for (const c of askers) c.close();
    await bot.stop();
  }
});

test('control: a line rate far over the limit gets planbot disconnected by the server', async () => {
  const { bot, askers } = await run({ line_ms: 50, burst: 20 }, 10);
  try {
    await bot.waitLog(/the server closes the link: .*(RecvQ exceeded|Excess Flood)/, 60000);
  } finally {
    for (const c of askers) c.close();
    await bot.stop();
  }
});
