// conformance.test.js - the fake Discord against Discord's own libraries: discord.js (Client)
// signs in, sees a mention and a DM and replies; @discordjs/ws (WebSocketManager) identifies,
// resumes after a dropped socket, an op 7 and a resumable op 9, identifies anew after op 9
// false, and stops for good on 4004; @discordjs/rest paces a burst from the X-RateLimit headers
// and waits out injected 429s; bad tokens and intents the application may not use are refused.
// So the fake speaks the protocol planbot is tested with. A last test checks by hand what no
// well-behaved library shows: the 429 for a post too many, and the gateway's close codes.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { once } = require('node:events');
const { setTimeout: sleep } = require('node:timers/promises');
const WebSocket = require('ws');
const { Client, GatewayIntentBits: Intents, Partials, ChannelType, Routes } = require('discord.js');
const { WebSocketManager, WebSocketShardEvents } = require('@discordjs/ws');
const { REST, DiscordAPIError } = require('@discordjs/rest');
const { startFakeDiscord, BOT_ID, GUILD_ID, TOWN, ROLE_MOD } = require('./fake_discord');

const TOKEN = 'discord-conformance-token';
const BOB = { id: '6000000000000000002', username: 'bob' };

function rest(fake, token = TOKEN) {
  return new REST({ api: `${fake.url}/api` }).setToken(token);
}

// A WebSocketManager of its own: the library's default session store is one for the whole
// process, and its identify throttle spaces identifies 5 s apart (Discord's max_concurrency
// rule, the library's own business, not the fake's), which these tests skip.
function gateway(fake, { token = TOKEN, intents = Intents.Guilds | Intents.GuildMessages | Intents.DirectMessages | Intents.MessageContent } = {}) {
  let session = null;
  const manager = new WebSocketManager({
    token,
    intents,
    rest: rest(fake),
    retrieveSessionInfo: () => session,
    updateSessionInfo: (_, info) => { session = info; },
    buildIdentifyThrottler: () => ({ waitForIdentify: async () => {} }),
  });
  const seen = { dispatches: [], errors: [] };
  manager.on(WebSocketShardEvents.Dispatch, ({ data }) => seen.dispatches.push(data));
  manager.on(WebSocketShardEvents.Error, ({ error }) => seen.errors.push(error));
  return { manager, seen, session: () => session };
}

const frames = (fake, op) => fake.frames.filter((f) => f.frame && f.frame.op === op);

test('discord.js signs in, answers a mention and a DM, and sees its own replies', async () => {
  const fake = await startFakeDiscord({ token: TOKEN, heartbeatInterval: 500 });
  const client = new Client({
    intents: [Intents.Guilds, Intents.GuildMessages, Intents.DirectMessages, Intents.MessageContent],
    partials: [Partials.Channel],
    rest: { api: `${fake.url}/api` },
  });
  try {
    const seen = [];
    client.on('messageCreate', (m) => seen.push(m));
    const ready = once(client, 'clientReady');
    await client.login(TOKEN);
    await ready;
    assert.equal(client.user.id, BOT_ID);
    assert.ok(client.user.bot);
    const town = client.channels.cache.get(TOWN);
    assert.equal(town.guild.id, GUILD_ID);
    assert.ok(client.guilds.cache.get(GUILD_ID).roles.cache.has(ROLE_MOD));
    assert.deepEqual(fake.connections[0].query, { v: '10', encoding: 'json' });
    assert.equal(frames(fake, 2)[0].frame.d.intents, 37377);

    const q = fake.say(`<@${BOT_ID}> How big can the army be?`, { roles: [ROLE_MOD] });
    await fake.waitFor(() => seen.some((m) => m.id === q.id));
    const asked = seen.find((m) => m.id === q.id);
    assert.equal(asked.content, q.content);
    assert.ok(asked.mentions.users.has(BOT_ID));
    assert.ok(asked.member.roles.cache.has(ROLE_MOD));
    const reply = await asked.reply({ content: 'Up to 600,000.', allowedMentions: { parse: [], repliedUser: false } });
    assert.equal(fake.posts.length, 1);
    const post = fake.posts[0];
    assert.equal(post.channel_id, TOWN);
    assert.equal(post.body.message_reference.message_id, q.id);
    assert.deepEqual(post.body.allowed_mentions, { parse: [], replied_user: false });
    assert.equal(reply.type, 19);
    assert.equal(reply.reference.messageId, q.id);
    // the reply comes back as MESSAGE_CREATE (sending it emits no messageCreate), from a bot
    await fake.waitFor(() => seen.some((m) => m.id === reply.id));
    assert.ok(seen.find((m) => m.id === reply.id).author.bot);

    const d = fake.dm('Who drafted the plan?', { user: BOB });
    await fake.waitFor(() => seen.some((m) => m.id === d.id));
    const dm = seen.find((m) => m.id === d.id);
    assert.equal(dm.channel.type, ChannelType.DM);
    assert.equal(dm.guild, null);
    assert.equal(dm.author.id, BOB.id);
    await dm.reply('Witkoff and Dmitriev.');
    assert.equal(fake.posts[1].channel_id, d.channel_id);
    assert.equal(fake.posts[1].body.message_reference.message_id, d.id);
    assert.equal(fake.violations, 0);
    assert.ok(fake.requests.every((r) => !('authorization' in r.headers)));
  } finally {
    await client.destroy();
    await fake.close();
  }
});

test('@discordjs/ws resumes after a drop and an op 7, identifies after op 9 false, and stops on 4004', async () => {
  const fake = await startFakeDiscord({ token: TOKEN, heartbeatInterval: 400 });
  const { manager, seen, session } = gateway(fake);
  try {
    await manager.connect();
    await fake.waitFor(() => seen.dispatches.some((p) => p.t === 'GUILD_CREATE'));
    assert.equal(fake.identifies, 1);
    const first = session();
    assert.equal(first.resumeURL, `ws://127.0.0.1:${fake.port}/resume`);
    assert.equal(first.sequence, 2); // READY, GUILD_CREATE

    // a dead link: what is said meanwhile is replayed after the resume
    fake.dropSockets();
    const missed = fake.say('said while the bot was away');
    await once(manager, WebSocketShardEvents.Resumed);
    assert.equal(fake.resumes, 1);
    assert.equal(fake.connections.length, 2);
    assert.equal(fake.connections[1].path, '/resume');
    assert.deepEqual(frames(fake, 6)[0].frame.d, { token: TOKEN, session_id: first.sessionId, seq: 2 });
    await fake.waitFor(() => seen.dispatches.some((p) => p.t === 'RESUMED'));
    const replayed = seen.dispatches.findIndex((p) => p.t === 'MESSAGE_CREATE' && p.d.id === missed.id);
    assert.equal(seen.dispatches[replayed].s, 3);
    assert.equal(seen.dispatches[replayed + 1].t, 'RESUMED');
    assert.equal(fake.identifies, 1);

    // op 7: the client closes (not with 1000, which would end the session) and resumes
    fake.reconnect();
    await once(manager, WebSocketShardEvents.Resumed);
    assert.equal(fake.resumes, 2);
    assert.equal(fake.connections[1].closedBy, 'client');
    assert.notEqual(fake.connections[1].code, 1000);

    // op 9 true: a resume on the same socket
    fake.invalidSession(true);
    await once(manager, WebSocketShardEvents.Resumed);
    assert.equal(fake.resumes, 3);
    assert.equal(fake.connections.length, 3);

    // op 9 false: the session is over; a new connection identifies
    fake.invalidSession(false);
    await once(manager, WebSocketShardEvents.Ready);
    assert.equal(fake.identifies, 2);
    assert.equal(fake.connections.length, 4);
    assert.equal(fake.connections[3].path, '/');
    assert.notEqual(session().sessionId, first.sessionId);

    // 4004 is final: an error, and no new connection
    fake.closeSockets(4004, 'Authentication failed.');
    await fake.waitFor(() => seen.errors.length > 0);
    assert.match(seen.errors[0].message, /Authentication failed/);
    await sleep(1000);
    assert.equal(fake.connections.length, 4);
    assert.equal(session(), null);
  } finally {
    await manager.destroy();
    await fake.close();
  }
});

test('@discordjs/ws: a half-dead connection is left and resumed; a requested heartbeat is sent', async () => {
  const fake = await startFakeDiscord({ token: TOKEN, heartbeatInterval: 300 });
  const { manager, seen } = gateway(fake);
  try {
    await manager.connect();
    const beats = fake.heartbeats;
    fake.requestHeartbeat();
    await fake.waitFor(() => fake.heartbeats > beats);
    fake.zombie(true);
    const missed = fake.say(`<@${BOT_ID}> anyone there?`);
    await once(manager, WebSocketShardEvents.Resumed);
    assert.equal(fake.resumes, 1);
    assert.equal(fake.connections[0].closedBy, 'client');
    assert.ok(seen.dispatches.some((p) => p.t === 'MESSAGE_CREATE' && p.d.id === missed.id));
  } finally {
    await manager.destroy();
    await fake.close();
  }
});

test('@discordjs/rest paces a burst by the X-RateLimit headers and waits out injected 429s', async () => {
  const fake = await startFakeDiscord({ token: TOKEN, bucket: { limit: 5, windowMs: 800 } });
  const api = rest(fake);
  try {
    const burst = await Promise.all(Array.from({ length: 12 }, (_, i) => api.post(Routes.channelMessages(TOWN), { body: { content: `burst ${i}` } })));
    assert.equal(fake.violations, 0);
    assert.deepEqual(fake.posts.map((p) => p.body.content), burst.map((_, i) => `burst ${i}`));
    // no more than 5 in any 800 ms
    const at = fake.posts.map((p) => p.at);
    for (let i = 5; i < at.length; i++) assert.ok(at[i] - at[i - 5] >= 800, `post ${i} came ${at[i] - at[i - 5]} ms after post ${i - 5}`);

    await sleep(800); // a fresh bucket
    fake.rateLimit({ scope: 'global', count: 1, retryAfter: 0.6 });
    await api.post(Routes.channelMessages(TOWN), { body: { content: 'after a global wait' } });
    assert.equal(fake.limitedAt.length, 1);
    assert.ok(fake.posts.at(-1).at - fake.limitedAt[0] >= 600);
    assert.equal(fake.earlyDuringGlobal, 0);

    fake.rateLimit({ scope: 'bucket', count: 1, retryAfter: 0.4 });
    await api.post(Routes.channelMessages(TOWN), { body: { content: 'after a bucket wait' } });
    assert.equal(fake.limitedAt.length, 2);
    assert.ok(fake.posts.at(-1).at - fake.limitedAt[1] >= 400);
    assert.equal(fake.violations, 0);

    // errors as Discord words them
    await assert.rejects(api.post(Routes.channelMessages(TOWN), { body: { content: 'x'.repeat(2001) } }),
      (e) => e instanceof DiscordAPIError && e.status === 400 && e.code === 50035 && /2000 or fewer/.test(e.message));
    const ok = await api.post(Routes.channelMessages(TOWN), { body: { content: '🇺🇦'.repeat(1000) } }); // 2,000 code points
    assert.equal(ok.content.length, 4000);
    await assert.rejects(api.post(Routes.channelMessages('3999999999999999999'), { body: { content: 'hi' } }),
      (e) => e.status === 404 && e.code === 10003);
    await assert.rejects(api.post(Routes.channelMessages(TOWN), { body: { content: '' } }),
      (e) => e.status === 400 && e.code === 50006);

    // the history, newest first, people's messages and the bot's
    const q = fake.say('a question', { user: BOB });
    const page = await api.get(Routes.channelMessages(TOWN), { query: new URLSearchParams({ after: burst[11].id, limit: '100' }) });
    assert.equal(page[0].id, q.id);
    assert.equal(page.at(-1).content, 'after a global wait');
    assert.ok(page.every((m, i) => i === 0 || BigInt(m.id) < BigInt(page[i - 1].id)));
    const before = await api.get(Routes.channelMessages(TOWN), { query: new URLSearchParams({ before: burst[2].id }) });
    assert.deepEqual(before.map((m) => m.content), ['burst 1', 'burst 0']);
    assert.equal(fake.violations, 0);
  } finally {
    await fake.close();
  }
});

test('bad tokens and disallowed intents are refused: REST 401, gateway 4004 and 4014', async () => {
  const fake = await startFakeDiscord({ token: TOKEN, messageContent: false, heartbeatInterval: 500 });
  const managers = [];
  try {
    await assert.rejects(rest(fake, 'wrong').get(Routes.user('@me')), (e) => e.status === 401 && e.code === 0 && e.message === '401: Unauthorized');
    const client = new Client({ intents: [Intents.Guilds], rest: { api: `${fake.url}/api` } });
    await assert.rejects(client.login('wrong'), (e) => e.code === 'TokenInvalid');
    await client.destroy();
    const me = await rest(fake).get(Routes.user('@me'));
    assert.equal(me.id, BOT_ID);

    const badToken = gateway(fake, { token: 'wrong' });
    managers.push(badToken.manager);
    await assert.rejects(badToken.manager.connect(), /Authentication failed/);
    await fake.waitFor(() => fake.connections.at(-1).code === 4004);

    const privileged = gateway(fake); // MESSAGE_CONTENT, which this application has not enabled
    managers.push(privileged.manager);
    await assert.rejects(privileged.manager.connect(), /disallowed intents/);
    await fake.waitFor(() => fake.connections.at(-1).code === 4014);
    assert.equal(fake.identifies, 0);

    // without it, guild messages come with no content, except those that mention the bot
    const plain = gateway(fake, { intents: Intents.Guilds | Intents.GuildMessages });
    managers.push(plain.manager);
    await plain.manager.connect();
    const hidden = fake.say('not for the bot');
    const shown = fake.say(`<@${BOT_ID}> for the bot`);
    await fake.waitFor(() => plain.seen.dispatches.some((p) => p.d && p.d.id === shown.id));
    const got = (id) => plain.seen.dispatches.find((p) => p.d && p.d.id === id).d;
    assert.equal(got(hidden.id).content, '');
    assert.equal(got(shown.id).content, shown.content);
    assert.equal(got(shown.id).member.joined_at.length > 0, true);
    assert.equal(got(shown.id).guild_id, GUILD_ID);
  } finally {
    for (const m of managers) await m.destroy();
    await fake.close();
  }
});

// What no library shows, because none misbehaves: the fake's own answers, by hand.
test('by hand: rate-limit headers, a 429 for a post too many, and the gateway close codes', async () => {
  const fake = await startFakeDiscord({ token: TOKEN, heartbeatInterval: 1000, sessionStartRemaining: 0, sessionResetAfter: 60000 });
  const post = (content, channel = TOWN) => fetch(`${fake.url}/api/v10/channels/${channel}/messages`, {
    method: 'POST', headers: { Authorization: `Bot ${TOKEN}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ content }),
  });
  const sockets = [];
  const open = (query = '?v=10&encoding=json') => {
    const ws = new WebSocket(`ws://127.0.0.1:${fake.port}/${query}`);
    sockets.push(ws);
    const got = [];
    ws.on('message', (d) => got.push(JSON.parse(d)));
    const closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
    return { ws, got, closed, ready: once(ws, 'open') };
  };
  try {
    const info = await (await fetch(`${fake.url}/api/v10/gateway/bot`, { headers: { Authorization: `Bot ${TOKEN}` } })).json();
    assert.equal(info.url, `ws://127.0.0.1:${fake.port}`);
    assert.equal(info.session_start_limit.remaining, 0);
    assert.ok(info.session_start_limit.reset_after > 59000);

    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await post(`quick ${i}`));
    const first = answers[0];
    assert.equal(first.headers.get('content-type'), 'application/json');
    assert.equal(first.headers.get('x-ratelimit-limit'), '5');
    assert.equal(first.headers.get('x-ratelimit-remaining'), '4');
    assert.match(first.headers.get('x-ratelimit-reset-after'), /^\d+\.\d{3}$/);
    assert.match(first.headers.get('x-ratelimit-reset'), /^\d{10}\.\d{3}$/);
    assert.equal(answers[4].headers.get('x-ratelimit-bucket'), first.headers.get('x-ratelimit-bucket'));
    const over = answers[5];
    assert.equal(over.status, 429);
    assert.equal(over.headers.get('retry-after'), '1');
    assert.equal(over.headers.get('x-ratelimit-scope'), 'user');
    const body = await over.json();
    assert.equal(body.global, false);
    assert.ok(body.retry_after > 0 && body.retry_after <= 1);
    assert.equal(fake.violations, 1);
    assert.equal((await post('elsewhere', '3999999999999999999')).headers.get('x-ratelimit-remaining'), '4'); // a bucket per channel

    fake.rateLimit({ scope: 'global', count: 1, retryAfter: 0.3 });
    const global = await post('global', '3999999999999999998');
    assert.equal(global.status, 429);
    assert.equal(global.headers.get('x-ratelimit-global'), 'true');
    assert.equal(global.headers.get('x-ratelimit-scope'), 'global');
    assert.equal((await global.json()).global, true);
    assert.equal((await fetch(`${fake.url}/api/v10/users/@me`, { headers: { Authorization: `Bot ${TOKEN}` } })).status, 429);
    assert.equal(fake.earlyDuringGlobal, 1);

    assert.equal((await open('?v=9&encoding=json').closed), 4012);
    assert.equal((await open('?v=10&encoding=etf').closed), 4002);
    const garbled = open();
    await garbled.ready;
    garbled.ws.send('{"op":');
    assert.equal(await garbled.closed, 4002);
    const unknownOp = open();
    await unknownOp.ready;
    unknownOp.ws.send(JSON.stringify({ op: 99, d: null }));
    assert.equal(await unknownOp.closed, 4001);
    const early = open();
    await early.ready;
    early.ws.send(JSON.stringify({ op: 3, d: { status: 'online', since: null, activities: [], afk: false } }));
    assert.equal(await early.closed, 4003);
    const badIntents = open();
    await badIntents.ready;
    badIntents.ws.send(JSON.stringify({ op: 2, d: { token: TOKEN, intents: 2 ** 30, properties: {} } }));
    assert.equal(await badIntents.closed, 4013);

    // no session may start while the limit is spent: op 9, the socket stays
    const spent = open();
    await spent.ready;
    spent.ws.send(JSON.stringify({ op: 2, d: { token: TOKEN, intents: 1, properties: {} } }));
    await fake.waitFor(() => spent.got.some((f) => f.op === 9));
    assert.equal(spent.got.find((f) => f.op === 9).d, false);
    fake.sessionStart.remaining = 1;
    spent.ws.send(JSON.stringify({ op: 1, d: null }));
    spent.ws.send(JSON.stringify({ op: 2, d: { token: TOKEN, intents: 1, properties: {} } }));
    await fake.waitFor(() => spent.got.some((f) => f.t === 'GUILD_CREATE'));
    assert.deepEqual(spent.got[0], { op: 10, d: { heartbeat_interval: 1000 }, s: null, t: null });
    assert.deepEqual(spent.got.find((f) => f.op === 11), { op: 11, d: null, s: null, t: null });
    const ready = spent.got.find((f) => f.t === 'READY');
    assert.equal(ready.s, 1);
    spent.ws.send(JSON.stringify({ op: 2, d: { token: TOKEN, intents: 1, properties: {} } }));
    assert.equal(await spent.closed, 4005);

    const resumes = open();
    await resumes.ready;
    resumes.ws.send(JSON.stringify({ op: 6, d: { token: TOKEN, session_id: 'nope', seq: 0 } }));
    await fake.waitFor(() => resumes.got.some((f) => f.op === 9));
    resumes.ws.send(JSON.stringify({ op: 6, d: { token: TOKEN, session_id: ready.d.session_id, seq: 99 } }));
    assert.equal(await resumes.closed, 4007);

    const silent = open(); // never heartbeats
    assert.equal(await silent.closed, 4000);
  } finally {
    for (const ws of sockets) ws.terminate();
    await fake.close();
  }
});
