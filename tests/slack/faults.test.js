// faults.test.js - planbot against a fake Slack that misbehaves: every fault the reliability issue
// names, each a test that ends with every question answered once, and none answered twice.
// Run: PLANBOT=build/planbot node --test tests/slack/faults.test.js
'use strict';

const { describe, it, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { startFakeSlack } = require('./fake_slack');
const { startPlanbot, sleep } = require('./planbot');

const APP_TOKEN = 'xapp-1-A1-faults-secret-app';
const BOT_TOKEN = 'xoxb-faults-secret-bot';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'planbot-faults-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const QUESTIONS = [
  'How big can Ukraine\'s army be?',
  'Would Ukraine have to leave Donetsk?',
  'What did Rubio say?',
  'Who drafted the plan?',
  'What about NATO?',
];
let asked = 0;

// A fake and a planbot with pacing off and a fast keepalive: a socket quiet for 1 s is pinged,
// one silent for 3 s is dropped, an API call unanswered for 3 s is given up.
async function start({ fakeOpts = {}, slack = {}, waitConnected = true, before } = {}) {
  const fake = await startFakeSlack({ appToken: APP_TOKEN, botToken: BOT_TOKEN, ...fakeOpts });
  if (before) before(fake);
  const bot = await startPlanbot(fake, {
    tmp,
    appToken: APP_TOKEN,
    botToken: BOT_TOKEN,
    config: { slack: { pace_ms: 0, ping_secs: 1, timeout_secs: 3, ...slack } },
    waitConnected,
  });
  return { fake, bot };
}

async function stop({ fake, bot }) {
  await bot.stop();
  await fake.close();
}

// Mentions planbot in channel with one of the questions; returns the event (its ts is the thread
// the answer must go to).
function ask(fake, channel = 'C1') {
  const text = QUESTIONS[asked++ % QUESTIONS.length];
  const { ts } = fake.event({ type: 'app_mention', user: 'U2', channel, text: `<@UBOT> ${text}` });
  return { channel, ts };
}

// Waits until every question in evs has its answer, then a little longer, and checks that each
// has exactly one, in its thread, and that nothing else was posted.
async function answeredOnce(fake, evs, ms = 20000) {
  const mine = (ev) => fake.posts.filter((p) => p.channel === ev.channel && p.thread_ts === ev.ts);
  try {
    await fake.waitFor(() => evs.every((ev) => mine(ev).length > 0), ms);
  } catch (_) {
    const missing = evs.filter((ev) => mine(ev).length === 0).map((ev) => `${ev.channel} ${ev.ts}`);
    throw new Error(`no answer within ${ms} ms to ${missing.join(', ')}; stats ${JSON.stringify(fake.stats())}`);
  }
  await sleep(400);
  for (const ev of evs) assert.equal(mine(ev).length, 1, `answers to ${ev.channel} ${ev.ts}`);
  assert.equal(fake.posts.length, evs.length, 'posts that answer nothing asked');
}

// A TCP port on 127.0.0.1 that nothing listens on.
function deadPort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// The tests are independent (a fake and a planbot each) and mostly wait for timers: four at a
// time by default; PLANBOT_TEST_CONCURRENCY=1 runs them one by one (tests/valgrind.sh does).
const concurrency = Number(process.env.PLANBOT_TEST_CONCURRENCY) || 4;

describe('a misbehaving Slack', { concurrency }, () => {
  it('a connection reset in the middle of a frame: the envelope comes again and is answered once', async () => {
    const t = await start();
    try {
      t.fake.cutFrames(1);
      const ev = ask(t.fake);
      await answeredOnce(t.fake, [ev]);
      const s = t.fake.stats();
      assert.equal(s.framesCut, 1);
      assert.ok(s.redeliveries >= 1, 'the cut envelope was delivered again');
      assert.ok(s.socketsOpened >= 2, 'planbot opened a new socket');
      await t.bot.waitLog(/slack: disconnected \(the connection dropped\)/);
    } finally {
      await stop(t);
    }
  });

  it('a half-open connection that stops answering pings is dropped after timeout_secs', async () => {
    const t = await start();
    try {
      const stalledAt = Date.now();
      t.fake.stall();
      const ev = ask(t.fake); // held by the fake until a socket that answers
      await answeredOnce(t.fake, [ev]);
      const took = Date.now() - stalledAt;
      assert.ok(took >= 2500, `dropped after ${took} ms, before the 3 s timeout`);
      assert.ok(t.fake.stats().clientPings >= 1, 'planbot pinged the quiet socket');
      assert.ok(t.fake.stats().socketsOpened >= 2);
    } finally {
      await stop(t);
    }
  });

  it('a refused WebSocket URL is tried again, with a growing pause, until it works', async () => {
    const t = await start();
    try {
      t.fake.opts.linkPort = await deadPort();
      t.fake.drop();
      const ev = ask(t.fake);
      const opened = t.fake.stats().connectionsOpened;
      await t.fake.waitFor((f) => f.stats().connectionsOpened >= opened + 2, 15000);
      assert.equal(t.fake.posts.length, 0);
      t.fake.opts.linkPort = 0;
      await answeredOnce(t.fake, [ev]);
      assert.match(t.bot.log, /slack: connecting again in \d/);
    } finally {
      await stop(t);
    }
  });

  it('sockets that die right after hello: the pause before the next grows, then the question is answered', async () => {
    const t = await start({ before: (fake) => fake.dieAfterHello(2), waitConnected: false });
    try {
      const ev = ask(t.fake);
      await answeredOnce(t.fake, [ev]);
      assert.equal(t.fake.stats().socketsOpened, 3);
      const pauses = [...t.bot.log.matchAll(/slack: connecting again in ([\d.]+) s/g)].map((m) => Number(m[1]));
      assert.ok(pauses.length >= 2, t.bot.log);
      for (let i = 1; i < pauses.length; i++) assert.ok(pauses[i] > pauses[i - 1], `pauses ${pauses}`);
    } finally {
      await stop(t);
    }
  });

  for (const mode of ['http500', 'ok_false', 'invalid_json', 'hang']) {
    it(`apps.connections.open answering ${mode} is tried again; the question waiting is answered once`, async () => {
      // planbot starts into the fault: the question is asked before it has a socket
      const t = await start({ before: (fake) => fake.fault('apps.connections.open', mode, 2), waitConnected: false });
      try {
        const ev = ask(t.fake);
        await answeredOnce(t.fake, [ev], 25000);
        assert.equal(t.fake.stats().faultsServed, 2);
        const calls = t.fake.apiCalls.filter((c) => c.method === 'apps.connections.open');
        assert.equal(calls.length, 3, 'two faults, then the call that worked');
        const why = {
          http500: /apps\.connections\.open failed: .*500/,
          ok_false: /apps\.connections\.open failed: internal_error/,
          invalid_json: /apps\.connections\.open failed: .*(JSON|json)/,
          hang: /apps\.connections\.open failed: .*(imeout|timed out)/,
        }[mode];
        assert.match(t.bot.log, why);
      } finally {
        await stop(t);
      }
    });
  }

  it('chat.postMessage slower than the ack deadline holds up no acknowledgement', async () => {
    const t = await start({ slack: { timeout_secs: 10 } }); // slow, but not given up
    try {
      t.fake.fault('chat.postMessage', 'slow', 1, { delayMs: 4000 });
      const evs = [ask(t.fake, 'C1')];
      await sleep(200); // the slow post is on its way
      for (let i = 0; i < 6; i++) evs.push(ask(t.fake, `C${2 + (i % 3)}`));
      evs.push(ask(t.fake, 'C1')); // waits behind the slow one, in order
      await answeredOnce(t.fake, evs);
      const s = t.fake.stats();
      assert.equal(s.redeliveries, 0, 'every envelope was acknowledged in time');
      assert.equal(s.acks, evs.length);
      const c1 = t.fake.posts.filter((p) => p.channel === 'C1').map((p) => p.thread_ts);
      assert.deepEqual(c1, [evs[0].ts, evs[evs.length - 1].ts], 'C1 in the order asked');
    } finally {
      await stop(t);
    }
  });

  it('chat.postMessage answering 500, ok:false or broken JSON is tried again and posted once', async () => {
    const t = await start();
    try {
      for (const mode of ['http500', 'ok_false', 'invalid_json']) {
        t.fake.fault('chat.postMessage', mode, 2);
        const ev = ask(t.fake);
        await t.fake.waitFor((f) => f.stats().faultsServed >= 2, 10000);
        await answeredOnce(t.fake, [ev]);
        t.fake.reset();
        t.fake._stats.faultsServed = 0;
      }
      assert.match(t.bot.log, /slack: posting to C1 failed \(.*500.*\); trying again/);
      assert.match(t.bot.log, /slack: posting to C1 failed \(internal_error\); trying again/);
    } finally {
      await stop(t);
    }
  });

  it('a storm of 429s: every reply is posted once, each channel in order', async () => {
    const t = await start();
    try {
      t.fake.rateLimit(40, 1);
      const evs = [];
      for (let i = 0; i < 16; i++) evs.push(ask(t.fake, `C${1 + (i % 4)}`));
      await answeredOnce(t.fake, evs, 40000);
      assert.ok(t.fake.stats().rateLimited >= 8, `only ${t.fake.stats().rateLimited} 429s`);
      for (let c = 1; c <= 4; c++) {
        const order = t.fake.posts.filter((p) => p.channel === `C${c}`).map((p) => p.thread_ts);
        assert.deepEqual(order, evs.filter((ev) => ev.channel === `C${c}`).map((ev) => ev.ts));
      }
      assert.match(t.bot.log, /slack: rate limited; posting again in 1 s/);
    } finally {
      await stop(t);
    }
  });

  // Frames no Slack would send. Each goes out on planbot's socket, then a question: planbot logs the
  // frame, keeps running (on a new socket where it had to drop one) and answers the question once.
  const deep = (n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
  const BAD_FRAMES = [
    ['malformed JSON', '{"type":"events_api","envelope_id":"x1","payload":{'],
    ['JSON that is not an object', '[1,2,3]'],
    ['a type of the wrong type', '{"type":5,"envelope_id":"x2"}'],
    ['an envelope_id of the wrong type', '{"type":"events_api","envelope_id":7,"payload":{}}'],
    ['a payload of the wrong type', '{"type":"events_api","envelope_id":"x3","payload":"text"}'],
    ['an event with fields of the wrong types', JSON.stringify({
      type: 'events_api', envelope_id: 'x4', payload: { type: 'event_callback', event_id: 'Ev1',
        event: { type: 'app_mention', user: ['U2'], channel: 42, text: { a: 1 }, ts: null } } })],
    ['nesting 100,000 deep', deep(100000)],
    ['nesting 100,000 deep in arrays', '['.repeat(100000) + ']'.repeat(100000)],
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0x74, 0x79, 0x70, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x22, 0x7d])],
    ['a binary frame', Buffer.from([0, 1, 2, 3, 255]), { binary: true }],
    ['2 MB of JSON', JSON.stringify({ type: 'events_api', envelope_id: 'x5', payload: { blob: 'x'.repeat(2 << 20) } })],
  ];

  it('frames of bad JSON, wrong types, deep nesting, invalid UTF-8 and 2 MB are survived', async () => {
    const t = await start();
    try {
      const evs = [];
      for (const [what, data, opts] of BAD_FRAMES) {
        await t.fake.waitFor((f) => f.sendRaw(data, opts), 10000);
        const ev = ask(t.fake);
        evs.push(ev);
        try {
          await answeredOnce(t.fake, evs);
        } catch (e) {
          e.message = `after ${what}: ${e.message}`;
          throw e;
        }
        assert.equal(t.bot.exited, null, `planbot stopped after ${what}`);
      }
      for (const said of [/not valid JSON at byte/, /not a JSON object/, /nested deeper than 64 levels/,
        /holds byte 0xff/, /ignored a binary message/, /dropped a message over 1048576 bytes/]) {
        assert.match(t.bot.log, said);
      }
      assert.equal(t.fake.stats().socketsOpened, 1, 'no bad frame cost the socket');
    } finally {
      await stop(t);
    }
  });

  it('an event with a field planbot reads of the wrong type is acknowledged and ignored', async () => {
    const t = await start();
    try {
      const bad = [
        t.fake.event({ type: 'app_mention', text: '<@UBOT> hi', user: ['U2'] }),
        t.fake.event({ type: 'app_mention', text: '<@UBOT> hi', channel: 42 }),
        t.fake.event({ type: 'app_mention', text: '<@UBOT> hi', thread_ts: { ts: 1 } }),
      ];
      // fields planbot does not read may be anything: this one is a question like any other
      const odd = t.fake.event({ type: 'app_mention', text: '<@UBOT> Who drafted the plan?', blocks: 'x', files: 7 });
      const ev = ask(t.fake);
      await answeredOnce(t.fake, [{ channel: 'C1', ts: odd.ts }, ev]);
      assert.equal(t.fake.stats().acks, bad.length + 2, 'every envelope acknowledged');
      assert.equal(t.fake.stats().redeliveries, 0);
      for (const field of ['user', 'channel', 'thread_ts']) {
        assert.match(t.bot.log, new RegExp(`ignored a frame planbot cannot read .*payload\\.event\\.${field} must be a string`));
      }
    } finally {
      await stop(t);
    }
  });

  it('disconnect of every reason, again and again, loses no question and answers none twice', async () => {
    const t = await start();
    try {
      const evs = [];
      for (let round = 0; round < 3; round++) {
        for (const reason of ['warning', 'refresh_requested', 'too_many_websockets']) {
          evs.push(ask(t.fake, `C${1 + round}`));
          await t.fake.waitFor((f) => f.disconnect(reason, { which: 'newest' }) > 0, 15000);
          evs.push(ask(t.fake, `C${1 + round}`));
          await answeredOnce(t.fake, evs, 20000);
        }
      }
      const s = t.fake.stats();
      assert.equal(s.disconnectsSent, 9);
      assert.equal(s.unacked + s.pending, 0);
      assert.ok(s.socketsOpened >= 10, `${s.socketsOpened} sockets`);
    } finally {
      await stop(t);
    }
  });

  it('link_disabled: planbot stops reconnecting at once, and a restart answers what waited', async () => {
    const t = await start();
    try {
      t.fake.disconnect('link_disabled');
      await t.bot.waitLog(/Socket Mode is switched off/);
      const ev = ask(t.fake);
      const opened = t.fake.stats().socketsOpened;
      await sleep(3000);
      assert.equal(t.fake.stats().socketsOpened, opened, 'no reconnect within a minute');
      assert.equal(t.fake.posts.length, 0);
      await t.bot.stop();
      const again = await startPlanbot(t.fake, {
        tmp, appToken: APP_TOKEN, botToken: BOT_TOKEN, dir: t.bot.dir, config: { slack: { pace_ms: 0 } },
      });
      t.bot = again;
      await answeredOnce(t.fake, [ev]);
    } finally {
      await stop(t);
    }
  });

  // What a user may type to get at SQL or FTS5: each is a question like any other, gets one polite
  // reply, and the knowledge base is the same afterwards and passes kb check.
  const HOSTILE = [
    '"', '""army', 'army*', 'NEAR(army cap, 2)', 'army NEAR/2 cap', '-army', 'army OR cap AND NOT x',
    'title:army', '{title text}: army', '^army', "'; DROP TABLE entries; --",
    '"); DELETE FROM entries; --', 'army\u0000cap', '\u200f\u202earmy cap\u202c', 'army 🪖🇺🇦 cap?',
    'a'.repeat(100 * 1024),
  ];

  it('hostile questions get a polite reply each and change nothing in the knowledge base', async () => {
    const t = await start();
    try {
      const run = (...args) => require('node:child_process').spawnSync(process.env.PLANBOT,
        ['--db', t.bot.dbPath, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: t.bot.dir } });
      const before = run('kb', 'export');
      assert.equal(before.status, 0, before.stderr);
      const evs = [];
      for (const [i, q] of HOSTILE.entries()) {
        const { ts } = t.fake.event({ type: 'app_mention', user: `UH${i}`, channel: 'C9', text: `<@UBOT> ${q}` });
        evs.push({ channel: 'C9', ts });
      }
      await answeredOnce(t.fake, evs);
      for (const p of t.fake.posts) assert.doesNotMatch(p.text, /SQL|syntax error|fts5|locked/i, p.text);
      assert.match(t.fake.posts.at(-1).text, /too long/);
      const after = run('kb', 'export');
      assert.equal(after.stdout, before.stdout, 'the knowledge base changed');
      const check = run('kb', 'check');
      assert.equal(check.status, 0, check.stdout + check.stderr);
    } finally {
      await stop(t);
    }
  });
});
