// tls.test.js - planbot against the fake Slack over https:// and wss:// on 127.0.0.1: a certificate
// from the CA named by tls_ca_file is accepted, any other chain is refused before a request is sent.
// The certificates are made here (../fake/pki.js, with the openssl command line tool), in a
// temporary folder.
// Run: PLANBOT=build/planbot node --test tests/slack/tls.test.js
'use strict';

const { test, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');
const { startFakeSlack } = require('./fake_slack');
const { startPlanbot, sleep } = require('./planbot');
const { makeCerts, startTlsProxy } = require('../fake/pki');

const APP_TOKEN = 'xapp-1-A1-tls-secret-app';
const BOT_TOKEN = 'xoxb-tls-secret-bot';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'planbot-tls-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

let certs;
before(() => {
  certs = makeCerts(path.join(tmp, 'pki'));
});

// ---------------------------------------------------------------- planbot

// A check that fails must not leave planbot or a server running (node --test would wait for ever).
const live = new Set(); // planbot processes and servers not yet stopped
afterEach(async () => {
  for (const x of [...live]) {
    live.delete(x);
    await x.kill();
  }
});

async function withFake(opts, fn) {
  const fake = await startFakeSlack({ appToken: APP_TOKEN, botToken: BOT_TOKEN, ...opts });
  const entry = { kill: () => fake.close() };
  live.add(entry);
  try {
    return await fn(fake);
  } finally {
    live.delete(entry);
    await fake.close();
  }
}

// Starts planbot on the slack platform against fake, trusting caFile (none: the system's CAs).
// Stopping it also checks that it was still running and said it stopped.
async function startBot(fake, { caFile, env = {}, waitConnected = true } = {}) {
  const config = { slack: { pace_ms: 0 } };
  if (caFile) config.tls_ca_file = caFile;
  const bot = await startPlanbot(fake, {
    tmp, appToken: APP_TOKEN, botToken: BOT_TOKEN, config, env, waitConnected: false,
  });
  live.add(bot);
  const stop = bot.stop;
  bot.stop = async () => {
    live.delete(bot);
    const r = await stop();
    assert.ok(bot.wasRunning, `planbot exited by itself ${JSON.stringify(r)}:\n${bot.log}`);
    assert.match(bot.log, /slack: stopped/);
    return r;
  };
  if (waitConnected) await bot.waitLog(/slack: connected/);
  return bot;
}

// A question planbot answers from its bundled knowledge base.
async function askAndCheck(fake) {
  const before = fake.posts.length;
  const ev = fake.event({ text: '<@UBOT> Who drafted the plan?' });
  await fake.waitFor(() => fake.posts.length > before, 10000);
  const post = fake.posts[before];
  assert.equal(post.channel, 'C1');
  assert.equal(post.thread_ts, ev.ts);
  assert.ok(post.text.length > 0);
  return post;
}

// ---------------------------------------------------------------- the standalone fake

test('the standalone fake serves https:// with --tls-key and --tls-cert', async () => {
  const script = path.join(__dirname, 'fake_slack.js');
  const half = spawnSync(process.execPath, [script, '--tls-key', certs.server.keyFile], { encoding: 'utf8' });
  assert.equal(half.status, 2);
  assert.match(half.stderr, /--tls-key and --tls-cert go together/);

  const child = spawn(process.execPath, [script, '--app-token', APP_TOKEN, '--bot-token', BOT_TOKEN,
    '--tls-key', certs.server.keyFile, '--tls-cert', certs.server.certFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    const end = Date.now() + 10000;
    while (!/\n/.test(out)) {
      assert.ok(Date.now() < end, `no listening line: ${out}`);
      await sleep(10);
    }
    const m = /^fake-slack listening on (https:\/\/127\.0\.0\.1:\d+\/api\/)\n/.exec(out);
    assert.ok(m, out);
    const post = (method, ca) => new Promise((resolve, reject) => {
      const headers = { Authorization: `Bearer ${APP_TOKEN}` };
      const req = https.request(`${m[1]}${method}`, { method: 'POST', ca, agent: false, headers },
        (res) => {
          let body = '';
          res.on('data', (d) => { body += d; });
          res.on('end', () => resolve(JSON.parse(body)));
        });
      req.on('error', reject);
      req.end();
    });
    const open = await post('apps.connections.open', certs.ca);
    assert.equal(open.ok, true);
    assert.match(open.url, /^wss:\/\/127\.0\.0\.1:\d+\/link\/\?ticket=/);
    await assert.rejects(post('apps.connections.open', undefined), /unable to verify|self-signed|local issuer/);
  } finally {
    child.kill('SIGTERM');
  }
});

// ---------------------------------------------------------------- planbot over TLS

test('with the right CA planbot connects over https:// and wss://, answers, exits 0 on SIGTERM', async () => {
  await withFake({ tls: certs.server }, async (fake) => {
    assert.match(fake.apiUrl, /^https:\/\/127\.0\.0\.1:\d+\/api\/$/);
    const bot = await startBot(fake, { caFile: certs.caFile });
    await askAndCheck(fake);
    const s = fake.stats();
    assert.equal(s.authTests, 1);
    assert.equal(s.connectionsOpened, 1);
    assert.equal(s.socketsOpened, 1); // the fake only speaks TLS: this socket is a wss:// one
    assert.equal(s.acks, 1);
    assert.equal(s.tlsErrors, 0, JSON.stringify(fake.tlsErrors));
    assert.doesNotMatch(bot.log, /certificate|SSL/i);
    await bot.waitLog(/slack: answered U2 in C1/);
    await bot.stop(); // SIGTERM: exit code 0
  });
});

// Planbot refused the fake's certificate: the handshake failed before any request, and it retries.
async function expectRefusedAndRetrying(fake, bot) {
  fake.event({ text: '<@UBOT> Who drafted the plan?' }); // would be answered if planbot got through
  await bot.waitLog(/slack: auth\.test failed: SSL certificate problem/);
  // it keeps trying, with a growing pause between the attempts, and each is refused the same way
  await fake.waitFor((f) => f.tlsErrors.length >= 3, 15000);
  await bot.waitLog(/slack: connecting again in[^]*slack: connecting again in/);
  assert.ok(bot.count(/slack: auth\.test failed: SSL certificate problem/) >= 2, bot.log);
  const at = fake.tlsErrors.map((e) => e.at);
  assert.ok(at[1] - at[0] >= 500, `retried after ${at[1] - at[0]} ms`);
  // the pauses planbot chose, from its log: the time between two refusals also holds the
  // handshakes, which under valgrind on a busy machine vary by more than the backoff grows
  const pauses = [...bot.log.matchAll(/slack: connecting again in ([\d.]+) s/g)].map((m) => Number(m[1]));
  assert.ok(pauses[1] > pauses[0], `no backoff: ${pauses.join(' s, ')} s`);
  assert.equal(bot.exited, null, bot.log);
  const s = fake.stats();
  assert.equal(s.apiCalls, 0);
  assert.equal(s.authTests, 0);
  assert.equal(s.connectionsOpened, 0);
  assert.equal(s.socketsOpened, 0);
  assert.equal(s.posts, 0);
  assert.equal(s.pending, 1);
  assert.doesNotMatch(bot.log, /signed in as|slack: connected/);
  await bot.stop(); // SIGTERM: exit code 0
}

test('with an unrelated CA the certificate is refused, and planbot keeps retrying', async () => {
  await withFake({ tls: certs.server }, async (fake) => {
    await expectRefusedAndRetrying(fake, await startBot(fake, { caFile: certs.otherCaFile, waitConnected: false }));
  });
});

test('without tls_ca_file the system CAs refuse the test chain the same way', async () => {
  await withFake({ tls: certs.server }, async (fake) => {
    await expectRefusedAndRetrying(fake, await startBot(fake, { waitConnected: false }));
  });
});

// The Web API is the fake itself (the right certificate); apps.connections.open names a proxy port
// whose certificate is the one under test.
async function withSocketProxy(cert, fn) {
  const target = { ca: certs.ca };
  const proxy = await startTlsProxy(cert, target);
  const entry = { kill: () => proxy.close() };
  live.add(entry);
  try {
    await withFake({ tls: certs.server, linkPort: proxy.port }, async (fake) => {
      target.port = fake.port;
      await fn(fake, proxy);
    });
  } finally {
    live.delete(entry);
    await proxy.close();
  }
}

test('wss:// through a proxy with a good certificate works (the control for the next test)', async () => {
  await withSocketProxy(certs.server, async (fake, proxy) => {
    const bot = await startBot(fake, { caFile: certs.caFile });
    await askAndCheck(fake);
    assert.equal(proxy.handshakes, 1);
    assert.deepEqual(proxy.errors, []);
    assert.equal(fake.stats().socketsOpened, 1);
    await bot.stop();
  });
});

test('a wss:// certificate for another address is refused even though its CA is trusted', async () => {
  await withSocketProxy(certs.wrongName, async (fake, proxy) => {
    const bot = await startBot(fake, { caFile: certs.caFile, waitConnected: false });
    fake.event({ text: '<@UBOT> Who drafted the plan?' });
    await bot.waitLog(/slack: signed in as user UBOT/); // curl trusts the fake's own certificate
    await fake.waitFor(() => proxy.errors.length >= 2, 15000);
    await bot.waitLog(/slack: connecting again in/);
    assert.equal(bot.exited, null, bot.log);
    const s = fake.stats();
    assert.ok(s.connectionsOpened >= 2, `connectionsOpened ${s.connectionsOpened}`);
    assert.equal(proxy.handshakes, 0);
    assert.equal(s.socketsOpened, 0);
    assert.equal(s.posts, 0);
    assert.doesNotMatch(bot.log, /slack: connected/);
    assert.match(bot.log, /slack: the new socket failed: .*SSL/);
    assert.match(bot.log, /lws error: SSL error: IP address mismatch/); // the reason, at debug level
    await bot.stop();
  });
});

// tls_ca_file is meant to replace the system's CAs. OpenSSL's default store can be pointed at a file
// with SSL_CERT_FILE: here it holds a third CA, which signed the socket's certificate.
// planbot must refuse it: libwebsockets would load the system store too unless told not to.
test('with tls_ca_file the system CAs are not trusted for wss://', async () => {
  await withSocketProxy(certs.systemSigned, async (fake, proxy) => {
    const bot = await startBot(fake, { caFile: certs.caFile, env: { SSL_CERT_FILE: certs.systemCaFile }, waitConnected: false });
    await bot.waitLog(/slack: signed in as user UBOT/);
    await fake.waitFor(() => proxy.errors.length >= 1 || proxy.handshakes >= 1, 10000);
    await sleep(200);
    assert.equal(proxy.handshakes, 0, 'planbot accepted a certificate from a CA outside tls_ca_file');
    assert.equal(fake.stats().socketsOpened, 0);
    assert.doesNotMatch(bot.log, /slack: connected/);
    await bot.stop();
  });
});
