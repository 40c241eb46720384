// faults.test.js - planbot against a fake Discord that misbehaves: the Slack fault matrix
// (tests/slack/faults.test.js) where it applies to Discord, each test ending with every question
// answered once and none twice. Run: PLANBOT=build/planbot node --test tests/discord/faults.test.js
'use strict';

const { describe, it, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startFakeDiscord, BOT_ID } = require('./fake_discord');
const { startPlanbot, sleep } = require('../slack/planbot');
const { spawn } = require('node:child_process');

const TOKEN = 'discord-faults-secret-token';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'planbot-discord-faults-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const QUESTIONS = [
  "How big can Ukraine's army be?",
  'Would Ukraine have to leave Donetsk?',
  'What did Rubio say?',
  'Who drafted the plan?',
  'What about NATO?',
];
let asked = 0;

// A fake (heartbeats every 500 ms) and a planbot with pacing off whose API calls are given up
// after 3 s.
async function start({ before, discord = {}, waitConnected = true } = {}) {
  const fake = await startFakeDiscord({ token: TOKEN, heartbeatInterval: 500 });
  if (before) before(fake);
  fake.apiUrl = `${fake.url}/unused-slack/`; // the launcher also sets SLACK_API_URL
  const bot = await startPlanbot(fake, {
    tmp,
    appToken: TOKEN,
    botToken: TOKEN,
    config: { platform: 'discord', discord: { pace_ms: 0, timeout_secs: 3, ...discord } },
    env: { DISCORD_API_URL: `${fake.url}/api`, DISCORD_TOKEN: TOKEN },
    waitConnected: false,
  });
  if (waitConnected) await bot.waitLog(/discord: connected as planbot/, process.env.PLANBOT_WRAPPER ? 60000 : 20000);
  return { fake, bot };
}

async function stop({ fake, bot }) {
  await bot.stop();
  await fake.close();
}

// Mentions planbot with one of the questions; returns the message.
function ask(fake) {
  return fake.say(`<@${BOT_ID}> ${QUESTIONS[asked++ % QUESTIONS.length]}`);
}

// Waits until every question in qs has its answer, then a little longer, and checks that each
// has exactly one, as a reply to it, and that nothing else was posted.
async function answeredOnce(fake, qs, ms = 20000) {
  const mine = (q) => fake.posts.filter((p) => p.body.message_reference && p.body.message_reference.message_id === q.id);
  try {
    await fake.waitFor(() => qs.every((q) => mine(q).length > 0), ms);
  } catch (_) {
    throw new Error(`no answer within ${ms} ms to ${qs.filter((q) => !mine(q).length).map((q) => q.content).join('; ')}`);
  }
  await sleep(400);
  for (const q of qs) assert.equal(mine(q).length, 1, `answers to "${q.content}"`);
  assert.equal(fake.posts.length, qs.length, 'posts that answer nothing asked');
}

const deep = (n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
const BAD_FRAMES = [
  ['malformed JSON', '{"op":0,"t":"MESSAGE_CREATE","d":{'],
  ['JSON that is not an object', '[1,2,3]'],
  ['an op of the wrong type', '{"op":"0","d":null}'],
  ['a dispatch without d', '{"op":0,"s":null,"t":"MESSAGE_CREATE"}'],
  ['a message with fields of the wrong types', JSON.stringify({ op: 0, s: null, t: 'MESSAGE_CREATE', d: { id: 7, channel_id: ['x'], author: 'me', content: { a: 1 } } })],
  ['a message whose ids are not snowflakes', JSON.stringify({ op: 0, s: null, t: 'MESSAGE_CREATE', d: { id: '../../etc', channel_id: '1', author: { id: '2' }, content: 'hi' } })],
  ['a Hello with a heartbeat of 0', '{"op":10,"d":{"heartbeat_interval":0}}'],
  ['nesting 100,000 deep', deep(100000)],
  ['nesting 100,000 deep in arrays', '['.repeat(100000) + ']'.repeat(100000)],
  ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0x6f, 0x70, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x22, 0x7d])],
  ['a binary frame (zlib, which planbot never asked for)', Buffer.from([0x78, 0x9c, 1, 2, 3, 255]), { binary: true }],
  ['2 MB of JSON', JSON.stringify({ op: 0, s: null, t: 'TYPING_START', d: { blob: 'x'.repeat(2 << 20) } })],
];

// Independent tests, mostly waiting for timers: four at a time by default;
// PLANBOT_TEST_CONCURRENCY=1 runs them one by one (tests/valgrind.sh does).
const concurrency = Number(process.env.PLANBOT_TEST_CONCURRENCY) || 4;

describe('a misbehaving Discord', { concurrency }, () => {
  it('a connection reset in the middle of a frame: the session resumes and the message is answered once', async () => {
    const t = await start();
    try {
      t.fake.cutNext(1);
      const q = ask(t.fake);
      await answeredOnce(t.fake, [q]);
      assert.match(t.bot.log, /discord: disconnected/);
      assert.equal(t.fake.resumes, 1);
    } finally {
      await stop(t);
    }
  });

  it('GET /gateway/bot answering 500, then broken JSON, then never, is tried again until planbot connects', async () => {
    const t = await start({
      before: (fake) => {
        fake.fail('GET', '/api/v10/gateway/bot', 500, 1);
        fake.fail('GET', '/api/v10/gateway/bot', 'garbage', 1);
        fake.fail('GET', '/api/v10/gateway/bot', 'hang', 1);
      },
      waitConnected: false,
    });
    try {
      await t.bot.waitLog(/discord: connected as planbot/, 30000);
      assert.match(t.bot.log, /discord: GET gateway\/bot failed: HTTP status 500/);
      assert.match(t.bot.log, /gave an answer planbot cannot read/);
      await answeredOnce(t.fake, [ask(t.fake)]);
      assert.equal(t.fake.requests.filter((r) => r.path === '/api/v10/gateway/bot').length, 4);
    } finally {
      await stop(t);
    }
  });

  it('a reply answered 500, or never, is tried again; one created with a broken answer is not posted again', async () => {
    const t = await start();
    try {
      const POST = /^\/api\/v10\/channels\/\d+\/messages$/;
      t.fake.fail('POST', POST, 500, 2);
      t.fake.fail('POST', POST, 'hang', 1);
      const first = ask(t.fake);
      await answeredOnce(t.fake, [first], 30000);
      const tries = t.fake.requests.filter((r) => r.method === 'POST' && POST.test(r.path)).length;
      assert.equal(tries, 4, 'two 500s, one that hung, then the post');
      t.fake.fail('POST', POST, 'garbage', 1);
      const second = ask(t.fake);
      await answeredOnce(t.fake, [first, second]);
    } finally {
      await stop(t);
    }
  });

  it('a reply Discord made but whose answer was lost is tried again and not posted twice (its nonce)', async () => {
    const t = await start();
    try {
      const POST = /^\/api\/v10\/channels\/\d+\/messages$/;
      t.fake.fail('POST', POST, 'lost', 1);
      const q = ask(t.fake);
      const posts = () => t.fake.requests.filter((r) => r.method === 'POST' && POST.test(r.path)).length;
      await t.fake.waitFor(() => posts() === 2, 10000); // made, the answer lost; then again
      await answeredOnce(t.fake, [q]);
      assert.equal(posts(), 2);
      assert.equal(t.fake.nonceHits, 1, 'the second try was answered with the message the first made');
    } finally {
      await stop(t);
    }
  });

  it('a locked inbox: the question is recorded once the lock is gone, and answered once', async () => {
    const t = await start();
    let locker;
    try {
      // another process holds the inbox's write lock for 4 s (planbot waits 250 ms for it)
      const script = 'import sqlite3, sys, time\n' +
        'db = sqlite3.connect(sys.argv[1], isolation_level=None)\n' +
        'db.execute("BEGIN EXCLUSIVE")\nprint("locked", flush=True)\ntime.sleep(4)\ndb.execute("COMMIT")\n';
      locker = spawn('python3', ['-c', script, `${t.bot.dbPath}.inbox`], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise((resolve, reject) => {
        locker.stdout.on('data', (d) => { if (/locked/.test(d)) resolve(); });
        locker.on('exit', (code) => reject(new Error(`the locker exited ${code}`)));
      });
      const q = ask(t.fake);
      await t.bot.waitLog(/discord: cannot record message \d+ \(.*\); trying again every 2 s/);
      await answeredOnce(t.fake, [q], 20000);
    } finally {
      if (locker && locker.exitCode === null) locker.kill();
      await stop(t);
    }
  });

  it('frames of bad JSON, wrong types, deep nesting, invalid UTF-8, binary and 2 MB are survived', async () => {
    const t = await start();
    try {
      const qs = [];
      for (const [what, data, opts] of BAD_FRAMES) {
        t.fake.sendRaw(data, opts);
        qs.push(ask(t.fake));
        try {
          await answeredOnce(t.fake, qs);
        } catch (e) {
          e.message = `after ${what}: ${e.message}`;
          throw e;
        }
        assert.equal(t.bot.exited, null, `planbot stopped after ${what}`);
      }
      assert.match(t.bot.log, /ignored a frame planbot cannot read/);
      assert.match(t.bot.log, /ignored a binary message/);
      assert.match(t.bot.log, /dropped a message over/);
    } finally {
      await stop(t);
    }
  });

  it('the Gateway going down and coming back: planbot reconnects and answers what was said meanwhile once', async () => {
    const t = await start();
    try {
      const before = ask(t.fake);
      await answeredOnce(t.fake, [before]);
      await t.fake.down();
      await sleep(1500); // a refused reconnect or two
      await t.fake.up();
      const after_ = ask(t.fake);
      await answeredOnce(t.fake, [before, after_], 30000);
    } finally {
      await stop(t);
    }
  });

  it('SIGTERM: the replies already computed are posted, then planbot exits 0', async () => {
    const t = await start({ discord: { pace_ms: 1000 } });
    try {
      const qs = [ask(t.fake), ask(t.fake), ask(t.fake)]; // one channel: paced, a second apart
      await t.fake.waitFor(() => t.fake.posts.length >= 1);
      // all three computed (however slow planbot runs, under valgrind too) and at most the first
      // posted: the other two wait for the pacing when the signal comes
      await t.bot.waitLog(/(discord: queued a reply[\s\S]*){3}/);
      assert.ok(t.fake.posts.length < 3, 'the test came too late: every reply was posted already');
      t.bot.child.kill('SIGTERM');
      const r = await t.bot.done;
      assert.equal(r.code, 0);
      assert.equal(t.fake.posts.length, qs.length, 'every reply computed was posted');
      assert.match(t.bot.log, /discord: stopped/);
      const last = t.fake.connections.at(-1);
      assert.equal(last.code, 1000, 'the session was ended, not left to time out');
    } finally {
      await stop(t);
    }
  });

  it('a token from a file reaches neither ps nor the log, and is sent only to identify and in the Authorization header', async () => {
    const fake = await startFakeDiscord({ token: TOKEN });
    fake.apiUrl = `${fake.url}/unused-slack/`;
    const dir = fs.mkdtempSync(path.join(tmp, 'token-'));
    const file = path.join(dir, 'discord-token');
    fs.writeFileSync(file, `${TOKEN}\n`, { mode: 0o600 });
    const bot = await startPlanbot(fake, {
      tmp,
      dir,
      appToken: TOKEN,
      botToken: TOKEN,
      config: { platform: 'discord', discord: { pace_ms: 0, token_file: file } },
      env: { DISCORD_API_URL: `${fake.url}/api`, DISCORD_TOKEN: '', SLACK_APP_TOKEN: '', SLACK_BOT_TOKEN: '' },
      waitConnected: false,
    });
    try {
      await bot.waitLog(/discord: connected as planbot/);
      await answeredOnce(fake, [ask(fake)]);
      for (const f of ['cmdline', 'environ']) {
        const shown = fs.readFileSync(`/proc/${bot.child.pid}/${f}`, 'latin1');
        assert.ok(!shown.includes(TOKEN), `the token in /proc/${bot.child.pid}/${f}`);
      }
      const frames = fake.sent.filter((e) => e.via === 'ws' && e.body.includes(TOKEN));
      assert.equal(frames.length, 1);
      assert.match(frames[0].body, /"op":2/);
      assert.ok(fake.sent.filter((e) => e.via === 'http').every((e) => !e.body.includes(TOKEN) && !e.path.includes(TOKEN)));
    } finally {
      await bot.stop(); // checks that the token never reached the log
      await fake.close();
    }
  });
});
