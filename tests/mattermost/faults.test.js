// faults.test.js - planbot against a fake Mattermost that misbehaves: the Slack fault matrix
// (tests/slack/faults.test.js) where it applies to Mattermost, each test ending with every
// question answered once and none twice. Run: PLANBOT=build/planbot node --test
// tests/mattermost/faults.test.js
'use strict';

const { describe, it, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startFakeMattermost } = require('./fake_mattermost');
const { startPlanbot, sleep } = require('../slack/planbot');

const TOKEN = 'mm-faults-secret-token';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'planbot-mm-faults-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const QUESTIONS = [
  "How big can Ukraine's army be?",
  'Would Ukraine have to leave Donetsk?',
  'What did Rubio say?',
  'Who drafted the plan?',
  'What about NATO?',
];
let asked = 0;

// A fake and a planbot with pacing off and a fast keepalive: a socket quiet for 1 s is pinged,
// one silent for 3 s is dropped, an API call unanswered for 3 s is given up.
async function start({ before, mattermost = {}, waitConnected = true } = {}) {
  const fake = await startFakeMattermost({ token: TOKEN });
  if (before) before(fake);
  fake.apiUrl = `${fake.url}/unused-slack/`; // the launcher also sets SLACK_API_URL
  const bot = await startPlanbot(fake, {
    tmp,
    appToken: TOKEN,
    botToken: TOKEN,
    config: { platform: 'mattermost', mattermost: { pace_ms: 0, ping_secs: 1, timeout_secs: 3, ...mattermost } },
    env: { MATTERMOST_URL: fake.url, MATTERMOST_TOKEN: TOKEN },
    waitConnected: false,
  });
  if (waitConnected) await bot.waitLog(/mattermost: connected as @planbot/, process.env.PLANBOT_WRAPPER ? 60000 : 20000);
  return { fake, bot };
}

async function stop({ fake, bot }) {
  await bot.stop();
  await fake.close();
}

// Mentions planbot in channel with one of the questions; returns the post.
function ask(fake, channel = 'town') {
  return fake.say(`@planbot ${QUESTIONS[asked++ % QUESTIONS.length]}`, { channel });
}

// Waits until every question in qs has its answer, then a little longer, and checks that each
// has exactly one, in its thread, and that nothing else was posted.
async function answeredOnce(fake, qs, ms = 20000) {
  const mine = (q) => fake.posts.filter((p) => p.root_id === q.id);
  try {
    await fake.waitFor(() => qs.every((q) => mine(q).length > 0), ms);
  } catch (_) {
    throw new Error(`no answer within ${ms} ms to ${qs.filter((q) => !mine(q).length).map((q) => q.message).join('; ')}`);
  }
  await sleep(400);
  for (const q of qs) assert.equal(mine(q).length, 1, `answers to "${q.message}"`);
  assert.equal(fake.posts.length, qs.length, 'posts that answer nothing asked');
}

const deep = (n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
const BAD_FRAMES = [
  ['malformed JSON', '{"event":"posted","data":{'],
  ['JSON that is not an object', '[1,2,3]'],
  ['an event of the wrong type', '{"event":5,"seq":1}'],
  ['a posted event whose post is not JSON', JSON.stringify({ event: 'posted', data: { post: '{"id":' }, seq: 1 })],
  ['a post with fields of the wrong types', JSON.stringify({ event: 'posted', data: { post: JSON.stringify({ id: 7, user_id: ['u2'], channel_id: 42, message: { a: 1 } }) }, seq: 1 })],
  ['nesting 100,000 deep', deep(100000)],
  ['nesting 100,000 deep in arrays', '['.repeat(100000) + ']'.repeat(100000)],
  ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0x65, 0x76, 0x65, 0x6e, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x22, 0x7d])],
  ['a binary frame', Buffer.from([0, 1, 2, 3, 255]), { binary: true }],
  ['2 MB of JSON', JSON.stringify({ event: 'posted', data: { blob: 'x'.repeat(2 << 20) }, seq: 1 })],
];

// Independent tests, mostly waiting for timers: four at a time by default;
// PLANBOT_TEST_CONCURRENCY=1 runs them one by one (tests/valgrind.sh does).
const concurrency = Number(process.env.PLANBOT_TEST_CONCURRENCY) || 4;

describe('a misbehaving Mattermost', { concurrency }, () => {
  it('a half-open connection that stops answering pings is dropped, and what was said meanwhile answered once', async () => {
    const t = await start();
    try {
      const before = ask(t.fake);
      await answeredOnce(t.fake, [before]);
      t.fake.stall();
      const during = ask(t.fake); // lost with the link: only the catch-up can find it
      await t.bot.waitLog(/mattermost: disconnected/, 15000);
      t.fake.unstall();
      await answeredOnce(t.fake, [before, during]);
    } finally {
      await stop(t);
    }
  });

  it('a connection reset in the middle of a frame: the post is caught up and answered once', async () => {
    const t = await start();
    try {
      t.fake.cutNext(1);
      const q = ask(t.fake);
      await answeredOnce(t.fake, [q]);
      assert.match(t.bot.log, /mattermost: disconnected/);
    } finally {
      await stop(t);
    }
  });

  it('users/me answering 500, then broken JSON, is tried again until planbot signs in', async () => {
    const t = await start({
      before: (fake) => {
        fake.fail('GET', '/api/v4/users/me', 500, 1);
        fake.fail('GET', '/api/v4/users/me', 'garbage', 1);
      },
    });
    try {
      assert.match(t.bot.log, /mattermost: users\/me failed/);
      await answeredOnce(t.fake, [ask(t.fake)]);
      assert.equal(t.fake.requests.filter((r) => r.path === '/api/v4/users/me').length, 3);
    } finally {
      await stop(t);
    }
  });

  it('POST /posts answering 500, or never, is tried again; one created with a broken answer is not posted again', async () => {
    const t = await start();
    try {
      t.fake.fail('POST', '/api/v4/posts', 500, 2);
      t.fake.fail('POST', '/api/v4/posts', 'hang', 1);
      const first = ask(t.fake);
      await answeredOnce(t.fake, [first], 30000);
      const tries = t.fake.requests.filter((r) => r.method === 'POST' && r.path === '/api/v4/posts').length;
      assert.equal(tries, 4, 'two 500s, one that hung, then the post');
      t.fake.fail('POST', '/api/v4/posts', 'garbage', 1);
      const second = ask(t.fake);
      await answeredOnce(t.fake, [first, second]);
    } finally {
      await stop(t);
    }
  });

  it('frames of bad JSON, wrong types, deep nesting, invalid UTF-8 and 2 MB are survived', async () => {
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

  it('SIGTERM: the replies already computed are posted, then planbot exits 0', async () => {
    const t = await start({ mattermost: { pace_ms: 1000 } });
    try {
      const qs = [ask(t.fake), ask(t.fake), ask(t.fake)]; // one channel: paced, a second apart
      await t.fake.waitFor(() => t.fake.posts.length >= 1);
      // all three computed (however slow planbot runs, under valgrind too) and at most the first
      // posted: the other two wait for the pacing when the signal comes
      await t.bot.waitLog(/(mattermost: queued a reply[\s\S]*){3}/);
      assert.ok(t.fake.posts.length < 3, 'the test came too late: every reply was posted already');
      t.bot.child.kill('SIGTERM');
      const r = await t.bot.done;
      assert.equal(r.code, 0);
      assert.equal(t.fake.posts.length, qs.length, 'every reply computed was posted');
      assert.match(t.bot.log, /mattermost: stopped/);
    } finally {
      await stop(t);
    }
  });

  it('a token from a file reaches neither ps nor the log, and what planbot sent carries it only to sign in', async () => {
    const fake = await startFakeMattermost({ token: TOKEN });
    fake.apiUrl = `${fake.url}/unused-slack/`;
    const dir = fs.mkdtempSync(path.join(tmp, 'token-'));
    const file = path.join(dir, 'mm-token');
    fs.writeFileSync(file, `${TOKEN}\n`, { mode: 0o600 });
    const bot = await startPlanbot(fake, {
      tmp,
      dir,
      appToken: TOKEN,
      botToken: TOKEN,
      config: { platform: 'mattermost', mattermost: { pace_ms: 0, token_file: file } },
      env: { MATTERMOST_URL: fake.url, MATTERMOST_TOKEN: '', SLACK_APP_TOKEN: '', SLACK_BOT_TOKEN: '' },
      waitConnected: false,
    });
    try {
      await bot.waitLog(/mattermost: connected as @planbot/);
      await answeredOnce(fake, [ask(fake)]);
      for (const f of ['cmdline', 'environ']) {
        const shown = fs.readFileSync(`/proc/${bot.child.pid}/${f}`, 'latin1');
        assert.ok(!shown.includes(TOKEN), `the token in /proc/${bot.child.pid}/${f}`);
      }
      // the shared core's log of everything sent: the token only in the socket's challenge
      const frames = fake.sent.filter((e) => e.via === 'ws' && e.body.includes(TOKEN));
      assert.equal(frames.length, 1);
      assert.match(frames[0].body, /"action":"authentication_challenge"/);
      assert.ok(fake.sent.filter((e) => e.via === 'http').every((e) => !e.body.includes(TOKEN)));
    } finally {
      await bot.stop(); // checks that the token never reached the log
      await fake.close();
    }
  });
});
