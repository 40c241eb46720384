// e2e.test.js - planbot against the fake Slack, end to end: the real binary, the real sockets,
// everything on 127.0.0.1. Run: PLANBOT=build/planbot node --test tests/slack/e2e.test.js
'use strict';

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startFakeSlack } = require('./fake_slack');
const { startPlanbot, sleep } = require('./planbot');

const APP_TOKEN = 'xapp-1-A1-e2e-secret-app';
const BOT_TOKEN = 'xoxb-e2e-secret-bot';
const MODERATOR = 'UMOD';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'planbot-e2e-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

// Starts planbot against fake with the moderator configured and pacing off unless asked.
function startBot(fake, { pace = 0, env = {}, config = {}, waitConnected = true, dir } = {}) {
  return startPlanbot(fake, {
    tmp,
    appToken: APP_TOKEN,
    botToken: BOT_TOKEN,
    config: { moderators: { slack: [MODERATOR] }, slack: { pace_ms: pace }, ...config },
    env,
    waitConnected,
    dir,
  });
}

// Holds the database's write lock from another process for ms; resolves once it holds it, to
// { released }: a promise of its end. (Not the promise itself: an async function returning a
// promise would wait for it.)
async function holdLock(dbPath, ms) {
  const locker = spawn('python3', ['-c', [
    'import sqlite3, sys, time',
    'db = sqlite3.connect(sys.argv[1], isolation_level=None)',
    'db.execute("BEGIN IMMEDIATE")',
    'print("locked", flush=True)',
    `time.sleep(${ms / 1000})`,
    'db.execute("COMMIT")',
  ].join('\n'), dbPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  const released = new Promise((resolve) => locker.on('exit', resolve));
  await new Promise((resolve) => locker.stdout.once('data', resolve));
  return { released };
}

// Asks as user in channel and waits for the nth post (counting from 1) in reply.
async function ask(fake, text, { user = 'U2', channel = 'C1', type = 'app_mention', ...rest } = {}) {
  const before = fake.posts.length;
  const ev = fake.event({ type, user, channel, text: type === 'app_mention' ? `<@UBOT> ${text}` : text, ...rest });
  await fake.waitFor(() => fake.posts.length > before, 10000);
  return { ev, post: fake.posts[before] };
}

test('a mention is answered in its thread with the entry and its citation', async () => {
  const fake = await startFakeSlack({ appToken: APP_TOKEN, botToken: BOT_TOKEN });
  const bot = await startBot(fake);
  try {
    const { ev, post } = await ask(fake, 'How big can Ukraine\'s army be?');
    assert.equal(post.channel, 'C1');
    assert.equal(post.thread_ts, ev.ts);
    assert.equal(post.encoding, 'json');
    assert.match(post.text, /^> It limits the size of the Ukrainian armed forces to 600,000 personnel\./);
    assert.match(post.text, /\nSource: CNN, .*20 November 2025 \[army-cap\]/);
    // a question inside a thread is answered in that thread
    const r2 = await ask(fake, 'What did Rubio say?', { thread_ts: '1700000000.000001' });
    assert.equal(r2.post.thread_ts, '1700000000.000001');
    assert.match(r2.post.text, /Rubio/);
    assert.equal(fake.stats().acks, 2);
    await bot.waitLog(/slack: answered U2 in C1/);
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test('a socket URL with a host name is looked up off the loop and connects', async () => {
  const fake = await startFakeSlack({ appToken: APP_TOKEN, botToken: BOT_TOKEN, linkHost: 'localhost' });
  const bot = await startBot(fake);
  try {
    const { post } = await ask(fake, 'How big can Ukraine\'s army be?');
    assert.match(post.text, /600,000/);
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test('a direct message is answered, an off-topic question declined politely', async () => {
  const fake = await startFakeSlack({ appToken: APP_TOKEN, botToken: BOT_TOKEN });
  const bot = await startBot(fake);
  try {
    const dm = await ask(fake, 'Would Ukraine have to leave Donetsk?',
      { type: 'message', channel: 'D42', channel_type: 'im' });
    assert.equal(dm.post.channel, 'D42');
    assert.equal(dm.post.thread_ts, undefined, 'a DM reply goes beside the question');
    assert.match(dm.post.text, /Donetsk/);
    const off = await ask(fake, 'What is the best pizza topping in Naples?');
    assert.match(off.post.text, /^I don't know: the knowledge base has nothing that answers that\./);
    assert.equal(off.post.thread_ts, off.ev.ts);
    // Slack's escaping: & < > in the answer arrive escaped, the quote marker does not
    assert.ok(!/[<>](?!\s)/.test(dm.post.text.replace(/^> /gm, '')), dm.post.text);
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test('a redelivered event is acknowledged again and answered once', async () => {
  const fake = await startFakeSlack({ appToken: APP_TOKEN, botToken: BOT_TOKEN });
  const bot = await startBot(fake);
  try {
    const first = fake.event({ text: '<@UBOT> Who drafted the plan?', event_id: 'EvSAME1', ts: '1700000001.000100' });
    await fake.waitForPosts(1);
    // Slack's redelivery: a new envelope, retry_attempt 1, the same event_id
    fake.event({ text: '<@UBOT> Who drafted the plan?', event_id: 'EvSAME1', ts: first.ts, retry_attempt: 1, retry_reason: 'timeout' });
    // the same message again as a plain message event (a mention can come as both)
    fake.event({ type: 'message', text: '<@UBOT> Who drafted the plan?', ts: first.ts, channel_type: 'channel' });
    await fake.waitFor(() => fake.stats().acks === 3, 5000);
    await sleep(300);
    assert.equal(fake.posts.length, 1);
    await bot.waitLog(/was answered already/);
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test('the same envelope delivered five times is acknowledged five times and answered once', async () => {
  const fake = await startFakeSlack({ appToken: APP_TOKEN, botToken: BOT_TOKEN });
  const bot = await startBot(fake);
  try {
    const first = fake.event({ text: '<@UBOT> What about NATO?', event_id: 'EvFIVE' });
    for (let i = 1; i < 5; i++) {
      fake.event({ text: '<@UBOT> What about NATO?', event_id: 'EvFIVE', ts: first.ts, retry_attempt: i, retry_reason: 'timeout' });
    }
    await fake.waitFor(() => fake.stats().acks === 5, 5000);
    await fake.waitForPosts(1);
    await sleep(300);
    assert.equal(fake.posts.length, 1);
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test('1,000 questions in one second from 50 users are all answered, once each', async () => {
  const fake = await startFakeSlack({ appToken: APP_TOKEN, botToken: BOT_TOKEN });
  const bot = await startBot(fake);
  try {
    const qs = ['Who drafted the plan?', 'What about NATO?', 'How big can the army be?', 'What did Rubio say?'];
    const asked = new Set();
    for (let i = 0; i < 1000; i++) {
      const ev = fake.event({ user: `U${i % 50}`, channel: `C${i % 20}`, text: `<@UBOT> ${qs[i % qs.length]}` });
      asked.add(`${ev.ts}`);
      if (i % 100 === 99) await sleep(100); // spread over one second
    }
    await fake.waitForPosts(1000, 60000);
    await sleep(500);
    assert.equal(fake.posts.length, 1000);
    assert.equal(new Set(fake.posts.map((p) => p.thread_ts)).size, 1000);
    for (const p of fake.posts) assert.ok(asked.has(p.thread_ts));
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test('a 429 is honoured and no reply is lost', async () => {
  const fake = await startFakeSlack({ appToken: APP_TOKEN, botToken: BOT_TOKEN });
  const bot = await startBot(fake);
  try {
    fake.rateLimit(2, 1);
    const t0 = Date.now();
    const qs = ['Who drafted the plan?', 'What about NATO?', 'How big can the army be?'];
    qs.forEach((q, i) => fake.event({ text: `<@UBOT> ${q}`, channel: `C${i + 10}` }));
    await fake.waitForPosts(3, 10000);
    assert.ok(Date.now() - t0 >= 950, 'posted before Retry-After passed');
    assert.equal(fake.stats().rateLimited, 2);
    assert.deepEqual(fake.posts.map((p) => p.channel).sort(), ['C10', 'C11', 'C12']);
    await bot.waitLog(/rate limited; posting again in 1 s/);
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test('replies to one channel are paced, in order', async () => {
  const fake = await startFakeSlack({ appToken: APP_TOKEN, botToken: BOT_TOKEN });
  const bot = await startBot(fake, { pace: 400 });
  try {
    const qs = ['Who drafted the plan?', 'What about NATO?', 'How big can the army be?'];
    const evs = qs.map((q) => fake.event({ text: `<@UBOT> ${q}` }));
    await fake.waitForPosts(3, 10000);
    assert.deepEqual(fake.posts.map((p) => p.thread_ts), evs.map((e) => e.ts));
    for (let i = 1; i < 3; i++) assert.ok(fake.posts[i].at - fake.posts[i - 1].at >= 380, 'not paced');
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test('refresh_requested and a dropped socket lose no question', async () => {
  const fake = await startFakeSlack({ appToken: APP_TOKEN, botToken: BOT_TOKEN });
  const bot = await startBot(fake);
  try {
    fake.disconnect('refresh_requested', { closeAfterMs: 3000 });
    fake.event({ text: '<@UBOT> Who drafted the plan?' }); // while the sockets change
    await bot.waitLog(/closing the socket it replaces/);
    await fake.waitForPosts(1);
    assert.equal(fake.stats().connectionsOpened, 2);
    fake.drop();
    fake.event({ text: '<@UBOT> What about NATO?' }); // held by Slack until planbot is back
    await fake.waitForPosts(2, 10000);
    await bot.waitLog(/disconnected/);
    fake.disconnect('warning', { closeAfterMs: 2000 });
    fake.event({ text: '<@UBOT> How big can the army be?' });
    await fake.waitForPosts(3, 10000);
    assert.equal(fake.posts.length, 3);
    assert.equal(fake.stats().unacked, 0);
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test('bot messages, planbot\'s own and edits are ignored', async () => {
  const fake = await startFakeSlack({ appToken: APP_TOKEN, botToken: BOT_TOKEN, echo: true });
  const bot = await startBot(fake);
  try {
    await ask(fake, 'Who drafted the plan?'); // echo: its own reply comes back as an event
    fake.event({ type: 'message', channel: 'D1', channel_type: 'im', user: 'UBOT', bot_id: 'BBOT', text: 'Who drafted the plan?' });
    fake.event({ type: 'message', channel: 'D1', channel_type: 'im', bot_id: 'BOTHER', subtype: 'bot_message', text: 'Who drafted the plan?' });
    fake.event({ type: 'app_mention', user: 'U9', bot_id: 'BOTHER', text: '<@UBOT> Who drafted the plan?' });
    fake.event({ type: 'message', channel: 'D1', channel_type: 'im', subtype: 'message_changed', hidden: true, text: 'x' });
    fake.event({ type: 'message', channel: 'C1', channel_type: 'channel', user: 'U2', text: 'Who drafted the plan?' });
    await fake.waitFor(() => fake.stats().acks >= 7, 5000);
    await sleep(300);
    assert.equal(fake.posts.length, 1);
    await bot.waitLog(/own message/);
    await bot.waitLog(/bot message/);
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test('only moderators change the knowledge base from the chat', async () => {
  const fake = await startFakeSlack({ appToken: APP_TOKEN, botToken: BOT_TOKEN });
  const bot = await startBot(fake);
  try {
    const refused = await ask(fake, 'kb remove army-cap', { user: 'U2' });
    assert.match(refused.post.text, /moderator/i);
    const still = await ask(fake, 'How big can Ukraine\'s army be?', { user: 'U2' });
    assert.match(still.post.text, /600,000/);

    const helpUser = await ask(fake, 'help', { user: 'U2' });
    assert.doesNotMatch(helpUser.post.text, /kb add/);
    const helpMod = await ask(fake, 'help', { user: MODERATOR });
    assert.match(helpMod.post.text, /kb add/);

    const add = await ask(fake, [
      'kb add',
      'id: moon-base',
      'kind: provision',
      'title: Moon base',
      'source: cnn-2025-11-20',
      'text: It limits the size of the Ukrainian armed forces to 600,000 personnel.',
      'keywords: moon base, lunar outpost',
    ].join('\n'), { user: MODERATOR });
    assert.match(add.post.text, /moon-base/);
    const next = await ask(fake, 'Is there a lunar outpost?', { user: 'U2' });
    assert.match(next.post.text, /\[moon-base\]/);
    const sources = await ask(fake, 'sources', { user: 'U2' });
    assert.match(sources.post.text, /CNN/);
  } finally {
    await bot.stop();
    await fake.close();
  }
});

// Runs planbot at the terminal on the bot's database; resolves to {code, out}.
function terminal(bot, ...args) {
  return new Promise((resolve) => {
    execFile(process.env.PLANBOT, ['--db', bot.dbPath, ...args], { env: { PATH: process.env.PATH, HOME: bot.dir } },
      (err, stdout, stderr) => resolve({ code: err ? err.code : 0, out: stdout + stderr }));
  });
}

test('a moderator edits from the terminal while the bot runs: answers change at once, nobody sees a lock', async () => {
  const fake = await startFakeSlack({ appToken: APP_TOKEN, botToken: BOT_TOKEN });
  const bot = await startBot(fake);
  try {
    const before = await ask(fake, 'How big can Ukraine\'s army be?');
    assert.match(before.post.text, /\[army-cap\]/);
    const removed = await terminal(bot, 'kb', 'remove', 'army-cap');
    assert.equal(removed.code, 0, removed.out);
    const gone = await ask(fake, 'How big can Ukraine\'s army be?');
    assert.doesNotMatch(gone.post.text, /\[army-cap\]/, 'answered from the data before the change');
    const change = /kb undo (\d+)/.exec(removed.out)[1];
    assert.equal((await terminal(bot, 'kb', 'undo', change)).code, 0);
    const back = await ask(fake, 'How big can Ukraine\'s army be?');
    assert.match(back.post.text, /\[army-cap\]/);

    // terminal changes and chat questions at the same time: every command works, every
    // question is answered once and in time (no redelivery)
    const edits = [];
    const evs = [];
    for (let i = 0; i < 10; i++) {
      edits.push(terminal(bot, 'kb', 'synonym', 'add', `word${i}`, 'army'));
      for (let j = 0; j < 5; j++) {
        evs.push(fake.event({
          text: `<@UBOT> ${j % 2 ? 'Who drafted the plan?' : `What about word${i}?`}`,
          channel: `C${j}`,
          user: `U${j}`, // five users: below the flood limit
        }));
      }
    }
    for (const e of await Promise.all(edits)) assert.equal(e.code, 0, e.out);
    await fake.waitForPosts(3 + evs.length, 20000);
    assert.equal(fake.stats().redeliveries, 0, 'every question was acknowledged in time');

    // a write at the terminal far longer than any kb command takes (2.5 s, a huge import): the
    // questions asked meanwhile are recorded in the inbox, a file of its own, so they are
    // acknowledged at once and answered from the knowledge base as it was; a moderator's change
    // from the chat cannot wait that long: it is told so, changes nothing, and works afterwards
    const lock = await holdLock(bot.dbPath, 2500);
    const n = fake.posts.length;
    const t0 = Date.now();
    fake.event({ text: '<@UBOT> What did Rubio say?' });
    fake.event({ type: 'message', text: 'kb remove army-cap', user: MODERATOR, channel: 'D7', channel_type: 'im' });
    await fake.waitForPosts(n + 2, 10000);
    assert.ok(Date.now() - t0 < 2000, 'answered while the terminal held the lock');
    assert.ok(fake.posts.some((p) => /Rubio/.test(p.text)));
    assert.ok(fake.posts.some((p) => /busy with another change just now; nothing was changed/.test(p.text)));
    await lock.released;
    await sleep(300);
    assert.equal(fake.posts.length, n + 2);
    assert.equal(fake.stats().redeliveries, 0, 'every question was acknowledged in time, lock or not');
    const again = await ask(fake, 'kb remove army-cap', { user: MODERATOR, type: 'message', channel: 'D7', channel_type: 'im' });
    assert.match(again.post.text, /Removed entry "army-cap"/);

    for (const p of fake.posts) assert.doesNotMatch(p.text, /locked|SQLITE|\.db\b/i);
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test('kb check and kb backup at the terminal cover the inbox while the bot answers', async () => {
  const fake = await startFakeSlack({ appToken: APP_TOKEN, botToken: BOT_TOKEN });
  const bot = await startBot(fake);
  try {
    for (const q of ['Who drafted the plan?', 'What about NATO?', 'How big can Ukraine\'s army be?']) await ask(fake, q);
    await sleep(100); // the settles of the last turn
    assert.ok(fs.existsSync(`${bot.dbPath}.inbox`), 'the inbox is a file of its own');
    const check = await terminal(bot, 'kb', 'check');
    assert.equal(check.code, 0, check.out);
    assert.match(check.out, /consistent: .*; its inbox holds 3 questions, 0 waiting for an answer\./);
    const copy = path.join(bot.dir, 'copy.db');
    const backup = await terminal(bot, 'kb', 'backup', copy);
    assert.equal(backup.code, 0, backup.out);
    assert.match(backup.out, /and its inbox of 3 questions \(0 waiting for an answer\) to .*copy\.db\.inbox/);
    assert.equal(fs.statSync(`${copy}.inbox`).mode & 0o777, 0o600);
    const { post } = await ask(fake, 'Who drafted the plan?'); // still answering
    assert.ok(post.text.length > 0);
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test('tokens from files reach neither ps, nor the log, nor an error message', async () => {
  const fake = await startFakeSlack({ appToken: APP_TOKEN, botToken: BOT_TOKEN });
  const dir = fs.mkdtempSync(path.join(tmp, 'tokens-'));
  const appFile = path.join(dir, 'app-token');
  const botFile = path.join(dir, 'bot-token');
  fs.writeFileSync(appFile, `${APP_TOKEN}\n`, { mode: 0o600 });
  fs.writeFileSync(botFile, `${BOT_TOKEN}\n`, { mode: 0o644 }); // readable by others: a warning
  const bot = await startBot(fake, {
    dir,
    env: { SLACK_APP_TOKEN: '', SLACK_BOT_TOKEN: '' },
    config: { slack: { pace_ms: 0, app_token_file: appFile, bot_token_file: botFile } },
  });
  try {
    const { post } = await ask(fake, 'Who drafted the plan?');
    assert.ok(post.text.length > 0);
    // what ps shows of a process is its /proc/PID/cmdline (and, with `ps e`, its environ)
    const pid = bot.child.pid;
    for (const f of ['cmdline', 'environ']) {
      const shown = fs.readFileSync(`/proc/${pid}/${f}`, 'latin1');
      assert.ok(!shown.includes(APP_TOKEN) && !shown.includes(BOT_TOKEN), `a token in /proc/${pid}/${f}`);
    }
    for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
      const comm = fs.readFileSync(`/proc/${pid}/task/${task}/comm`, 'latin1');
      assert.ok(!comm.includes('xoxb') && !comm.includes('xapp'));
    }
    assert.match(bot.log, new RegExp(`the token file ${botFile} can be read by others: chmod 600 it`));
    assert.doesNotMatch(bot.log, new RegExp(`the token file ${appFile}`));
  } finally {
    await bot.stop(); // checks that no token reached the log
    await fake.close();
  }
  // a token Slack refuses: the error names the variable, never the token
  fs.writeFileSync(botFile, 'xoxb-e2e-a-wrong-one', { mode: 0o600 });
  const fake2 = await startFakeSlack({ appToken: APP_TOKEN, botToken: BOT_TOKEN });
  const refused = await startBot(fake2, {
    dir,
    env: { SLACK_APP_TOKEN: '', SLACK_BOT_TOKEN: '' },
    config: { slack: { pace_ms: 0, app_token_file: appFile, bot_token_file: botFile } },
    waitConnected: false,
  });
  try {
    const r = await refused.done;
    assert.notEqual(r.code, 0);
    assert.match(refused.log, /bot token \(SLACK_BOT_TOKEN\)/);
    assert.ok(!refused.log.includes('xoxb-e2e-a-wrong-one'), 'the refused token was logged');
  } finally {
    await refused.stop();
    await fake2.close();
  }
});

test('a question acknowledged before a crash (SIGKILL) is answered at the next start', async () => {
  const fake = await startFakeSlack({ appToken: APP_TOKEN, botToken: BOT_TOKEN });
  let bot = await startBot(fake);
  try {
    fake.rateLimit(1, 60); // the reply waits a minute: planbot dies before it is posted
    const q = fake.event({ text: '<@UBOT> How big can Ukraine\'s army be?' });
    await fake.waitFor(() => fake.stats().acks === 1 && fake.stats().rateLimited === 1, 5000);
    await bot.kill();
    assert.equal(fake.posts.length, 0);
    bot = await startBot(fake, { dir: bot.dir });
    await fake.waitForPosts(1, 10000);
    assert.equal(fake.posts[0].thread_ts, q.ts);
    assert.match(fake.posts[0].text, /600,000/);
    await bot.waitLog(/1 question left open by the last stop answered now/);
    // Slack delivering it again to the new process changes nothing: it was recorded
    const acks = fake.stats().acks;
    fake.event({ text: '<@UBOT> How big can Ukraine\'s army be?', event_id: q.event_id, ts: q.ts, retry_attempt: 1 });
    await fake.waitFor(() => fake.stats().acks === acks + 1, 5000);
    await bot.waitLog(/was recorded before: not answered again/);
    await sleep(300);
    assert.equal(fake.posts.length, 1); // and only once
    // a third start finds nothing left open
    await bot.stop();
    bot = await startBot(fake, { dir: bot.dir });
    await sleep(300);
    assert.equal(fake.posts.length, 1);
    assert.doesNotMatch(bot.log, /left open by the last stop/);
  } finally {
    await bot.stop();
    await fake.close();
  }
});

// The record waits at most 250 ms for another process's lock, so a locked database never holds the
// socket up; the question is simply not acknowledged, and Slack's redelivery is answered.
test('a question that cannot be recorded is not acknowledged, so Slack delivers it again', async () => {
  const fake = await startFakeSlack({ appToken: APP_TOKEN, botToken: BOT_TOKEN, ackTimeoutMs: 1500 });
  const bot = await startBot(fake);
  try {
    await ask(fake, 'Who drafted the plan?');
    // the inbox (a file of its own beside the knowledge base) locked by someone else: the record
    // waits 250 ms at most
    const { released } = await holdLock(`${bot.dbPath}.inbox`, 1000);
    const q = fake.event({ text: '<@UBOT> How big can Ukraine\'s army be?' });
    await bot.waitLog(/not acknowledging event/);
    assert.equal(fake.stats().acks, 1);
    await released;
    await fake.waitFor(() => fake.posts.length === 2, 8000); // after the redelivery
    assert.equal(fake.posts[1].thread_ts, q.ts);
    assert.ok(fake.stats().redeliveries >= 1);
    await sleep(300);
    assert.equal(fake.posts.length, 2);
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test('declined questions reach kb unanswered for moderators', async () => {
  const fake = await startFakeSlack({ appToken: APP_TOKEN, botToken: BOT_TOKEN });
  const bot = await startBot(fake);
  try {
    await ask(fake, 'What is the best pizza topping in Naples?', { user: 'U2' });
    await ask(fake, 'what is the best pizza topping in naples', { user: 'U3' });
    const dm = { user: MODERATOR, type: 'message', channel: 'DMOD', channel_type: 'im' };
    const list = await ask(fake, 'kb unanswered', dm);
    assert.match(list.post.text, /2×.*pizza topping in Naples/i);
    const inChannel = await ask(fake, 'kb unanswered', { user: MODERATOR });
    assert.match(inChannel.post.text, /direct message/);
    assert.doesNotMatch(inChannel.post.text, /pizza/);
    const refused = await ask(fake, 'kb unanswered', { user: 'U2', type: 'message', channel: 'D2', channel_type: 'im' });
    assert.match(refused.post.text, /only moderators/i);
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test('a refused app token stops planbot with a clear message, no reconnect loop', async () => {
  const fake = await startFakeSlack({ appToken: 'xapp-1-other', botToken: BOT_TOKEN });
  const bot = await startBot(fake, { waitConnected: false });
  const r = await bot.done;
  assert.notEqual(r.code, 0);
  assert.match(bot.log, /Slack refused the app-level token \(SLACK_APP_TOKEN\): invalid_auth/);
  assert.equal(fake.stats().connectionsOpened, 1);
  await bot.stop();
  await fake.close();
});

test('missing tokens and bad settings are clear errors', async () => {
  const fake = await startFakeSlack({ appToken: APP_TOKEN, botToken: BOT_TOKEN });
  const noToken = await startBot(fake, { env: { SLACK_BOT_TOKEN: '' }, waitConnected: false });
  assert.notEqual((await noToken.done).code, 0);
  assert.match(noToken.log, /the bot token is not set/);
  const wrongKind = await startBot(fake, { env: { SLACK_APP_TOKEN: 'xoxb-oops' }, waitConnected: false });
  assert.notEqual((await wrongKind.done).code, 0);
  assert.match(wrongKind.log, /SLACK_APP_TOKEN is not an app-level token/);
  assert.doesNotMatch(wrongKind.log, /xoxb-oops/);
  const badKey = await startBot(fake, { config: { slack: { pace: 1 } }, waitConnected: false });
  assert.notEqual((await badKey.done).code, 0);
  assert.match(badKey.log, /unknown key "slack.pace"/);
  assert.equal(fake.stats().authTests, 0);
  await fake.close();
});

test('SIGTERM: the replies already computed are posted, then planbot exits 0', async () => {
  const fake = await startFakeSlack({ appToken: APP_TOKEN, botToken: BOT_TOKEN });
  const bot = await startBot(fake, { pace: 300 });
  try {
    const qs = ['Who drafted the plan?', 'What about NATO?', 'How big can the army be?'];
    qs.forEach((q) => fake.event({ text: `<@UBOT> ${q}` }));
    await fake.waitFor(() => fake.stats().acks === 3, 5000);
    await sleep(50);
    bot.child.kill('SIGTERM');
    const r = await bot.done;
    assert.equal(r.code, 0);
    assert.equal(fake.posts.length, 3);
    assert.match(bot.log, /slack: stopped/);
  } finally {
    await bot.stop();
    await fake.close();
  }
});
