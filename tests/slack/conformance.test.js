'use strict';
// Proves that fake_slack.js speaks the protocol the official Slack SDKs expect:
// @slack/socket-mode SocketModeClient and @slack/web-api WebClient run against it unchanged.
// Run: cd tests && node --test slack/

const test = require('node:test');
const assert = require('node:assert/strict');
const { once } = require('node:events');
const { performance } = require('node:perf_hooks');
const { SocketModeClient } = require('@slack/socket-mode');
const { WebClient, ErrorCode } = require('@slack/web-api');
const { WebSocket } = require('ws');
const { startFakeSlack } = require('./fake_slack');

const APP_TOKEN = 'xapp-1-test';
const BOT_TOKEN = 'xoxb-test';

// The SDKs log through this; kept quiet unless FAKE_SLACK_DEBUG is set.
const sdkLog = [];
function quietLogger(name) {
  let level = 'debug';
  const put = (lvl) => (...msg) => {
    sdkLog.push(`${lvl} ${name}: ${msg.join(' ')}`);
    if (process.env.FAKE_SLACK_DEBUG) console.error(`[sdk ${lvl}] ${name}:`, ...msg);
  };
  return {
    debug: put('debug'), info: put('info'), warn: put('warn'), error: put('error'),
    setLevel: (l) => { level = l; }, getLevel: () => level, setName: () => {},
  };
}

// Everything opened is closed in test.after, whatever happens in between.
const fakes = [];
const sockets = [];
test.after(async () => {
  for (const c of sockets) {
    try {
      await Promise.race([c.disconnect(), new Promise((r) => setTimeout(r, 2000))]);
    } catch (_) { /* ignore */ }
  }
  for (const f of fakes) await f.close();
});

async function newFake(opts) {
  const f = await startFakeSlack(opts);
  fakes.push(f);
  return f;
}

function newSocketClient(fake, opts = {}) {
  const c = new SocketModeClient({
    appToken: APP_TOKEN,
    logger: quietLogger('socket-mode'),
    clientPingTimeout: 1000, // reconnect delay = clientPingTimeout × failures; keeps the test fast
    ...opts,
    clientOptions: { slackApiUrl: fake.apiUrl, ...(opts.clientOptions || {}) },
  });
  sockets.push(c);
  return c;
}

function newWebClient(fake, opts = {}) {
  return new WebClient(BOT_TOKEN, {
    slackApiUrl: fake.apiUrl,
    retryConfig: { retries: 0 },
    logger: quietLogger('web-api'),
    ...opts,
  });
}

/** Collect SDK callbacks for one event type into an array, with a waiter. */
function collect(client, type) {
  const got = [];
  client.on(type, (args) => got.push(args));
  got.waitFor = async (n, timeoutMs = 5000) => {
    const end = performance.now() + timeoutMs;
    while (got.length < n) {
      if (performance.now() > end) throw new Error(`wanted ${n} '${type}' callbacks, got ${got.length}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return got[n - 1];
  };
  return got;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function rawApi(fake, method, { body, contentType = 'application/json; charset=utf-8', token = BOT_TOKEN, httpMethod = 'POST' } = {}) {
  const headers = {};
  if (contentType) headers['Content-Type'] = contentType;
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${fake.apiUrl}${method}`, {
    method: httpMethod,
    headers,
    body: httpMethod === 'POST' ? (typeof body === 'string' ? body : JSON.stringify(body ?? {})) : undefined,
  });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), headers: res.headers, json: JSON.parse(text) };
}

test('1. SocketModeClient connects, gets an app_mention, acks it; WebClient replies in thread', async () => {
  const fake = await newFake({ ackTimeoutMs: 400 });
  const sm = newSocketClient(fake);
  const web = newWebClient(fake);
  const mentions = collect(sm, 'app_mention');
  const helloSeen = once(fake, 'hello');

  await sm.start(); // resolves once the socket is connected
  await helloSeen;
  assert.ok(fake.stats().sockets.some((s) => s.hello));
  assert.equal(fake.stats().connectionsOpened, 1);
  assert.equal(fake.stats().socketsOpen, 1);

  const injected = fake.event({ type: 'app_mention', user: 'U2', channel: 'C1', text: '<@UBOT> what is the plan?' });
  const m = await mentions.waitFor(1);
  assert.equal(m.envelope_id, injected.envelope_id);
  assert.equal(m.retry_num, 0);
  assert.equal(m.retry_reason, '');
  assert.equal(m.accepts_response_payload, false);
  assert.equal(m.body.type, 'event_callback');
  assert.equal(m.body.event_id, injected.event_id);
  assert.equal(m.body.team_id, 'T1');
  assert.equal(m.body.api_app_id, 'A1');
  assert.equal(m.body.authorizations[0].user_id, 'UBOT');
  assert.equal(m.event.type, 'app_mention');
  assert.equal(m.event.text, '<@UBOT> what is the plan?');
  assert.equal(m.event.channel, 'C1');
  assert.equal(m.event.user, 'U2');
  assert.equal(m.event.ts, injected.ts);
  assert.equal(m.event.event_ts, injected.ts);
  assert.match(m.event.ts, /^\d{10}\.\d{6}$/);

  const acked = once(fake, 'ack');
  await m.ack();
  const [ack] = await acked;
  assert.equal(ack.envelope_id, injected.envelope_id);
  assert.deepEqual(ack.payload, {}); // the Node SDK always sends {"envelope_id":…,"payload":{}}

  const r = await web.chat.postMessage({ channel: m.event.channel, thread_ts: m.event.ts, text: 'Here is the plan.' });
  assert.equal(r.ok, true);
  assert.equal(r.channel, 'C1');
  assert.equal(r.message.bot_id, 'BBOT');
  assert.equal(r.message.thread_ts, m.event.ts);
  const [post] = await fake.waitForPosts(1, 2000);
  assert.equal(post.encoding, 'form');
  assert.equal(post.channel, 'C1');
  assert.equal(post.thread_ts, injected.ts);
  assert.equal(post.text, 'Here is the plan.');
  assert.equal(post.ts, r.ts);

  await sleep(600); // > ackTimeoutMs: an acked envelope must not come back
  const s = fake.stats();
  assert.equal(s.acks, 1);
  assert.deepEqual(s.ackedEnvelopeIds, [injected.envelope_id]);
  assert.equal(s.redeliveries, 0);
  assert.equal(s.deliveries, 1);
  assert.equal(s.unknownFrames, 0);
  assert.ok(s.clientPings > 0, 'the SDK pings the server and gets pongs');
  assert.equal(mentions.length, 1);
  await sm.disconnect();
  await fake.waitFor((f) => f.stats().socketsOpen === 0, 2000);
  assert.equal(fake.stats().closes[0].code, 1000);
  assert.equal(fake.stats().closes[0].by, 'client');
});

test('2. WebClient auth.test returns the bot identity', async () => {
  const fake = await newFake();
  const web = newWebClient(fake);
  const r = await web.auth.test();
  assert.equal(r.ok, true);
  assert.equal(r.user_id, 'UBOT');
  assert.equal(r.bot_id, 'BBOT');
  assert.equal(r.team_id, 'T1');
  assert.equal(fake.stats().authTests, 1);
  // the token as a form field (what Bolt does for auth.test) works too
  const t = await rawApi(fake, 'auth.test', { token: null, contentType: 'application/x-www-form-urlencoded', body: `token=${BOT_TOKEN}` });
  assert.equal(t.json.ok, true);
  await assert.rejects(newWebClient(fake, {}).apiCall('auth.test', { token: 'xoxb-wrong' }), (e) => e.data.error === 'invalid_auth');
});

test('3. an unacknowledged envelope is redelivered as a retry with a new envelope_id', async () => {
  const fake = await newFake({ ackTimeoutMs: 300 });
  const sm = newSocketClient(fake);
  const mentions = collect(sm, 'app_mention');
  await sm.start();
  const injected = fake.event({ type: 'app_mention', text: '<@UBOT> retry me' });

  const first = await mentions.waitFor(1);
  assert.equal(first.retry_num, 0);
  // do not ack the first delivery
  const second = await mentions.waitFor(2, 3000);
  assert.equal(second.retry_num, 1);
  assert.equal(second.retry_reason, 'timeout');
  assert.notEqual(second.envelope_id, first.envelope_id);
  assert.equal(second.body.event_id, injected.event_id);
  assert.equal(second.event.ts, injected.ts);
  await second.ack();

  await sleep(500);
  assert.equal(mentions.length, 2, 'acked retry is not delivered again');
  const s = fake.stats();
  assert.equal(s.redeliveries, 1);
  assert.equal(s.deliveries, 2);
  assert.deepEqual(s.ackedEnvelopeIds, [second.envelope_id]);

  // a late ack for the superseded first envelope is noticed but harmless
  await first.ack();
  await fake.waitFor((f) => f.stats().lateAcks === 1, 1000);
  assert.equal(fake.stats().acks, 1);
  await sm.disconnect();
});

test('4. 429 + Retry-After reaches the WebClient', async () => {
  const fake = await newFake();

  // (a) rejectRateLimitedCalls: the SDK surfaces a rate-limited error carrying retryAfter
  fake.rateLimit(1, 1);
  const strict = newWebClient(fake, { rejectRateLimitedCalls: true });
  await assert.rejects(strict.chat.postMessage({ channel: 'C1', text: 'too fast' }), (e) => {
    assert.equal(e.code, ErrorCode.RateLimitedError);
    assert.equal(e.retryAfter, 1);
    return true;
  });
  assert.equal(fake.posts.length, 0);

  // (b) default behaviour with the default retry policy: pause Retry-After seconds, then succeed
  fake.rateLimit(1, 1);
  const patient = new WebClient(BOT_TOKEN, { slackApiUrl: fake.apiUrl, logger: quietLogger('web-api') });
  const seen = [];
  patient.on('rate_limited', (sec) => seen.push(sec));
  const t0 = performance.now();
  const r = await patient.chat.postMessage({ channel: 'C1', text: 'eventually' });
  const waited = performance.now() - t0;
  assert.equal(r.ok, true);
  assert.deepEqual(seen, [1]);
  assert.ok(waited >= 1000, `waited only ${waited.toFixed(0)} ms`);
  assert.equal(fake.posts.length, 1);
  assert.equal(fake.stats().rateLimited, 2);
});

test('5. after disconnect(refresh_requested) the SocketModeClient reconnects by itself', async (t) => {
  const fake = await newFake({ ackTimeoutMs: 1000, serverPingMs: 100 });
  const sm = newSocketClient(fake);
  const mentions = collect(sm, 'app_mention');
  let reconnecting = 0;
  sm.on('reconnecting', () => { reconnecting += 1; });
  await sm.start();
  await fake.waitFor((f) => f.stats().pings >= 2 && f.stats().pongs >= 2, 2000); // the client answers server pings

  const t0 = performance.now();
  assert.equal(fake.disconnect('refresh_requested'), 1);
  // the client closes the old socket itself (close frame 1000), then opens a new one
  await fake.waitFor((f) => f.stats().closes.length === 1, 3000);
  assert.equal(fake.stats().closes[0].by, 'client');
  assert.equal(fake.stats().closes[0].code, 1000);
  await fake.waitFor((f) => f.stats().socketsOpened === 2 && f.stats().sockets.some((s) => s.hello), 8000);
  const reconnectMs = performance.now() - t0;
  assert.equal(fake.stats().connectionsOpened, 2);
  assert.equal(fake.stats().socketsOpen, 1);
  assert.equal(reconnecting, 1);

  const injected = fake.event({ type: 'app_mention', text: '<@UBOT> still there?' });
  const m = await mentions.waitFor(1, 3000);
  assert.equal(m.body.event_id, injected.event_id);
  assert.equal(m.retry_num, 0);
  await m.ack();
  await fake.waitFor((f) => f.stats().acks === 1, 1000);
  t.diagnostic(`reconnect after refresh_requested took ${reconnectMs.toFixed(0)} ms`);
  await sm.disconnect();
});

test('5b. an envelope unacked when the TCP link drops is redelivered on the next socket', async () => {
  const fake = await newFake({ ackTimeoutMs: 5000 });
  const sm = newSocketClient(fake);
  const mentions = collect(sm, 'app_mention');
  await sm.start();
  const injected = fake.event({ type: 'app_mention', text: '<@UBOT> lost?' });
  const first = await mentions.waitFor(1);
  assert.equal(fake.drop(), 1); // no close frame, no ack sent
  const again = await mentions.waitFor(2, 8000);
  assert.equal(again.retry_num, 1);
  assert.equal(again.retry_reason, 'timeout');
  assert.notEqual(again.envelope_id, first.envelope_id);
  assert.equal(again.body.event_id, injected.event_id);
  await again.ack();
  await fake.waitFor((f) => f.stats().acks === 1, 1000);
  const s = fake.stats();
  assert.equal(s.connectionsOpened, 2);
  assert.equal(s.closes[0].by, 'drop');
  await sm.disconnect();
});

test('6. a wrong app token makes SocketModeClient.start() reject', async () => {
  const fake = await newFake();
  const bad = newSocketClient(fake, { appToken: 'xapp-1-wrong' });
  await assert.rejects(bad.start(), (e) => {
    assert.equal(e.code, ErrorCode.PlatformError);
    assert.equal(e.data.error, 'invalid_auth');
    return true;
  });
  fake.failAuth(true);
  const good = newSocketClient(fake);
  await assert.rejects(good.start(), (e) => e.data.error === 'invalid_auth');
  fake.failAuth(false);
  assert.equal(fake.stats().socketsOpened, 0);
  assert.equal(fake.stats().connectionsOpened, 2);
});

test('7. JSON-body chat.postMessage is accepted; bad calls get the documented errors', async () => {
  const fake = await newFake();
  const ok = await rawApi(fake, 'chat.postMessage', { body: { channel: 'C9', text: 'json *hello*', thread_ts: '1700000000.000100' } });
  assert.equal(ok.status, 200);
  assert.match(ok.type, /^application\/json/);
  assert.equal(ok.json.ok, true);
  assert.equal(ok.json.channel, 'C9');
  assert.match(ok.json.ts, /^\d+\.\d{6}$/);
  assert.equal(ok.json.message.thread_ts, '1700000000.000100');
  assert.equal(fake.posts[0].encoding, 'json');
  assert.equal(fake.posts[0].thread_ts, '1700000000.000100');
  assert.equal(ok.json.warning, undefined, 'charset given → no missing_charset warning');

  const noCharset = await rawApi(fake, 'chat.postMessage', { contentType: 'application/json', body: { channel: 'C1', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'b' } }] } });
  assert.equal(noCharset.json.ok, true);
  assert.equal(noCharset.json.warning, 'missing_charset');
  assert.equal(fake.posts[1].blocks.length, 1);

  const errors = [
    [{ body: { text: 'no channel' } }, 'channel_not_found'],
    [{ body: { channel: '', text: 'x' } }, 'channel_not_found'],
    [{ body: { channel: 'C1' } }, 'no_text'],
    [{ body: { channel: 'C1', text: '' } }, 'no_text'],
    [{ body: { channel: 'C1', text: 'x'.repeat(40001) } }, 'msg_too_long'],
    [{ body: { channel: 'C1', text: 'x' }, token: null }, 'not_authed'],
    [{ body: { channel: 'C1', text: 'x' }, token: 'xoxb-nope' }, 'invalid_auth'],
    [{ body: { channel: 'C1', text: 'x' }, token: APP_TOKEN }, 'not_allowed_token_type'],
    [{ body: '{"channel":' }, 'invalid_json'],
  ];
  for (const [req, want] of errors) {
    const r = await rawApi(fake, 'chat.postMessage', req);
    assert.equal(r.status, 200);
    assert.match(r.type, /^application\/json/);
    assert.equal(r.json.ok, false);
    assert.equal(r.json.error, want, JSON.stringify(req).slice(0, 80));
  }
  assert.equal((await rawApi(fake, 'chat.postMessage', { body: { channel: 'C1', text: 'x'.repeat(40000) } })).json.ok, true);
  assert.equal((await rawApi(fake, 'no.such.method', { body: {} })).json.error, 'unknown_method');
  const get = await rawApi(fake, 'chat.postMessage', { httpMethod: 'GET' });
  assert.equal(get.status, 405);
  assert.equal(get.json.ok, false);
  assert.equal(fake.posts.length, 3);

  // the SDK's form encoding puts blocks into a JSON-string field; the fake decodes it
  const web = newWebClient(fake);
  await web.chat.postMessage({ channel: 'C1', text: 'fallback', blocks: [{ type: 'divider' }] });
  assert.deepEqual(fake.posts[3].blocks, [{ type: 'divider' }]);
  assert.equal(fake.posts[3].encoding, 'form');
  await assert.rejects(web.chat.postMessage({ channel: 'C1', text: '' }), (e) => e.data.error === 'no_text');
});

test('8. tickets are single-use, app tokens only; control interface over HTTP', async () => {
  const fake = await newFake();
  const bot = await rawApi(fake, 'apps.connections.open', { contentType: 'application/x-www-form-urlencoded', body: '' });
  assert.equal(bot.json.error, 'not_allowed_token_type');
  const none = await rawApi(fake, 'apps.connections.open', { token: null, body: '' });
  assert.equal(none.json.error, 'not_authed');
  const open = await rawApi(fake, 'apps.connections.open', { token: APP_TOKEN, contentType: 'application/x-www-form-urlencoded', body: '' });
  assert.equal(open.json.ok, true);

  const ws1 = new WebSocket(open.json.url);
  const frames = []; // every text frame the fake sends, in order
  ws1.on('message', (d) => frames.push(JSON.parse(d.toString())));
  const nextFrame = async (i) => {
    await fake.waitFor(() => frames.length > i, 2000);
    return frames[i];
  };
  const h = await nextFrame(0);
  assert.equal(h.type, 'hello');
  assert.equal(h.num_connections, 1);
  assert.equal(h.connection_info.app_id, 'A1');

  const ws2 = new WebSocket(open.json.url); // same ticket again
  ws2.on('error', () => {}); // terminate() while CONNECTING reports an abort
  const [, res] = await once(ws2, 'unexpected-response');
  assert.equal(res.statusCode, 401);
  res.resume();
  ws2.terminate();
  assert.equal(fake.stats().upgradesRejected, 1);

  // bad frames are counted, never fatal
  ws1.send('not json');
  ws1.send(JSON.stringify({ hello: 'there' }));
  ws1.send(JSON.stringify({ envelope_id: 'never-sent' }));
  await fake.waitFor((f) => f.stats().unknownFrames === 3, 1000);

  // control endpoints
  const base = fake.apiUrl.replace(/\/api\/$/, '');
  const injected = await (await fetch(`${base}/_fake/event`, {
    method: 'POST', body: JSON.stringify({ type: 'message', channel: 'D7', text: 'dm' }),
  })).json();
  assert.equal(injected.ok, true);
  assert.match(injected.event_id, /^Ev/);
  const env = await nextFrame(1);
  assert.equal(env.type, 'events_api');
  assert.equal(env.envelope_id, injected.envelope_id);
  assert.equal(env.payload.event.channel_type, 'im');
  assert.equal(env.payload.event.ts, injected.ts);
  ws1.send(JSON.stringify({ envelope_id: env.envelope_id }));
  await fake.waitFor((f) => f.stats().acks === 1, 1000);

  const stats = await (await fetch(`${base}/_fake/stats`)).json();
  assert.equal(stats.acks, 1);
  assert.equal(stats.socketsOpen, 1);
  await fetch(`${base}/_fake/ratelimit`, { method: 'POST', body: JSON.stringify({ count: 1, retry_after: 3 }) });
  const limited = await rawApi(fake, 'chat.postMessage', { body: { channel: 'C1', text: 'x' } });
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get('retry-after'), '3');
  assert.equal(limited.json.error, 'ratelimited');
  await rawApi(fake, 'chat.postMessage', { body: { channel: 'C1', text: 'after' } });
  const posts = await (await fetch(`${base}/_fake/wait_posts?n=1&timeout_ms=1000`)).json();
  assert.equal(posts.ok, true);
  assert.equal(posts.posts[0].text, 'after');

  const closed = once(ws1, 'close');
  const d = await (await fetch(`${base}/_fake/disconnect`, {
    method: 'POST', body: JSON.stringify({ reason: 'link_disabled', closeAfterMs: 50 }),
  })).json();
  assert.equal(d.sockets, 1);
  assert.deepEqual(await nextFrame(2), { type: 'disconnect', reason: 'link_disabled', debug_info: { host: 'fake' } });
  const [code] = await closed; // this raw client does not react; the fake closes it
  assert.equal(code, 1000);
  await fake.waitFor((f) => f.stats().closes.length === 1, 1000);
  assert.equal(fake.stats().closes[0].by, 'server');
});

test('9. echo mode delivers the bot\'s own post back as a message event with bot_id', async () => {
  const fake = await newFake({ echo: true });
  const sm = newSocketClient(fake);
  const web = newWebClient(fake);
  const messages = collect(sm, 'message');
  await sm.start();
  const r = await web.chat.postMessage({ channel: 'C1', text: 'mine', thread_ts: '1700000000.000100' });
  const m = await messages.waitFor(1);
  await m.ack();
  assert.equal(m.event.bot_id, 'BBOT');
  assert.equal(m.event.user, 'UBOT');
  assert.equal(m.event.ts, r.ts);
  assert.equal(m.event.thread_ts, '1700000000.000100');
  assert.equal(m.event.channel_type, 'channel');
  await sm.disconnect();
});
