'use strict';
// fake_discord.js - a fake Discord for tests: the REST API (v10) and the Gateway (v10, JSON
// encoding, no compression offered) on one 127.0.0.1 port, built on the fakes' shared core
// (../fake/core.js). Discord's own libraries (discord.js, @discordjs/ws, @discordjs/rest) run
// against it in conformance.test.js, so it cannot drift from the real protocol. See
// ../../../shared/docs/protocols.md §3 and §5.3.
//
//   const { startFakeDiscord, BOT_ID, TOWN } = require('./fake_discord');
//   const fake = await startFakeDiscord({ token: 'tok', heartbeatInterval: 500 });
//   ... point planbot at `${fake.url}/api` (DISCORD_API_URL); the gateway URL comes from it ...
//   fake.say(`<@${BOT_ID}> How big can the army be?`);
//   await fake.waitFor(() => fake.posts.length === 1);
//   await fake.close();
//
// One guild (GUILD_ID) with one text channel (TOWN) and a moderators role (ROLE_MOD); a DM
// channel is made for each person on demand. People talk with say() (in a guild channel) and
// dm(); the fake dispatches MESSAGE_CREATE to every live session, honouring the intents each
// identified with, and blanks the content of guild messages that neither mention the bot nor come
// from it when the session lacks MESSAGE_CONTENT (the bot's own posts come back too, so that its
// self-filter is exercised).
//
// Sessions outlive their sockets, as Discord's do: what is dispatched while a session has no
// socket (or a half-dead one, see zombie()) is kept, the last 1,000 dispatches, and replayed on
// RESUME. A client that closes with 1000 or 1001 ends its session.
//
// Rate limits are honest: POST /channels/{id}/messages has a bucket per channel (Discord's major
// parameter) whose state every answer carries in X-RateLimit-* headers, and all requests together
// are held to Discord's global 50 a second; a request over either is answered 429 and counted in
// violations. rateLimit() injects 429s that a well-behaved client must wait out (they are not
// violations; a request made during an injected global wait is counted in earlyDuringGlobal).
//
// Control (tests call these; POST /_fake/NAME with a JSON body does the same, for trying it by
// hand): say, dm, dropSockets (also /_fake/drop), closeSockets, reconnect, invalidSession,
// requestHeartbeat, zombie, rateLimit; and for the fault tests fail(method, path, mode, n),
// sendRaw(data) and cutNext(n); down() and up() come from the core. GET /_fake/posts
// lists what the bot posted. State to assert on: posts, requests, frames, connections,
// identifies, resumes, heartbeats, violations, limitedAt, earlyDuringGlobal, sessions (times are
// performance.now() milliseconds); sessionStart.remaining may be set to spend the session starts.
// Standalone: node tests/discord/fake_discord.js [--port N] [--token T]

const crypto = require('node:crypto');
const { performance } = require('node:perf_hooks');
const WebSocket = require('ws');
const { FakeServer } = require('../fake/core');

const BOT_ID = '1000000000000000001';
const BOT_NAME = 'planbot';
const GUILD_ID = '2000000000000000001';
const TOWN = '3000000000000000001';
const ROLE_MOD = '5000000000000000001';
const ALICE = { id: '6000000000000000001', username: 'alice' }; // who talks unless told otherwise

const OP = { DISPATCH: 0, HEARTBEAT: 1, IDENTIFY: 2, PRESENCE_UPDATE: 3, VOICE_STATE_UPDATE: 4, RESUME: 6, RECONNECT: 7, REQUEST_GUILD_MEMBERS: 8, INVALID_SESSION: 9, HELLO: 10, HEARTBEAT_ACK: 11, REQUEST_SOUNDBOARD_SOUNDS: 31 };
// ops a client may send only once identified (or resumed); anything else unknown is 4001
const SESSION_OPS = new Set([OP.PRESENCE_UPDATE, OP.VOICE_STATE_UPDATE, OP.REQUEST_GUILD_MEMBERS, OP.REQUEST_SOUNDBOARD_SOUNDS]);
const INTENT = { GUILDS: 1 << 0, GUILD_MEMBERS: 1 << 1, GUILD_PRESENCES: 1 << 8, GUILD_MESSAGES: 1 << 9, DIRECT_MESSAGES: 1 << 12, MESSAGE_CONTENT: 1 << 15 };
const ALL_INTENTS = (1 << 26) - 1; // the documented bits, 0 to 25
// the fake application has only MESSAGE_CONTENT to enable (the messageContent option)
const OTHER_PRIVILEGED = INTENT.GUILD_MEMBERS | INTENT.GUILD_PRESENCES;
const APP_FLAG_MESSAGE_CONTENT_LIMITED = 1 << 19; // what an unverified bot with the intent on has

const DISCORD_EPOCH = 1420070400000n;
const MAX_CONTENT = 2000; // code points
const MAX_FRAME = 4096; // bytes of one payload from a client
const SEND_LIMIT = 120; // frames a client may send a connection in SEND_WINDOW_MS
const SEND_WINDOW_MS = 60000;
const GLOBAL_PER_SECOND = 50;
const KEEP_DISPATCHES = 1000;
const MESSAGES_BUCKET = '5b2a3f7c9e1d4a6b8c0d2e4f6a8b0c1d'; // X-RateLimit-Bucket of POST /channels/{id}/messages
const JOINED_AT = '2025-11-01T00:00:00.000000+00:00';

// Discord writes timestamps with microseconds and an explicit offset.
const discordTime = (ms) => new Date(ms).toISOString().replace('Z', '000+00:00');
const seconds = (ms) => (Math.ceil(Math.max(0, ms)) / 1000).toFixed(3);

function userObject(u) {
  return { id: u.id, username: u.username, discriminator: '0', global_name: u.global_name ?? null, avatar: null, public_flags: 0, ...(u.bot ? { bot: true } : {}) };
}

function memberObject(roles = []) {
  return { roles, joined_at: JOINED_AT, deaf: false, mute: false, flags: 0, nick: null, avatar: null, banner: null, premium_since: null, pending: false, communication_disabled_until: null };
}

function roleObject(id, name, position, permissions) {
  return { id, name, color: 0, colors: { primary_color: 0, secondary_color: null, tertiary_color: null }, hoist: false, icon: null, unicode_emoji: null, position, permissions, managed: false, mentionable: false, flags: 0 };
}

// A 400 "Invalid Form Body" naming the field at fault.
function formError(field, code, message) {
  return { code: 50035, message: 'Invalid Form Body', errors: { [field]: { _errors: [{ code, message }] } } };
}

class FakeDiscord extends FakeServer {
  constructor({ token = 'discord-test-token', heartbeatInterval = 1000, messageContent = true, sessionStartRemaining = 999, sessionResetAfter = 14400000, bucket = { limit: 5, windowMs: 1000 }, globalPerSecond = GLOBAL_PER_SECOND, port = 0 } = {}) {
    super({ name: 'fake-discord', port });
    this.token = token;
    this.globalPerSecond = globalPerSecond; // Discord's 50; a benchmark lifts it
    this.heartbeatInterval = heartbeatInterval;
    this.messageContent = messageContent;
    this.bucket = bucket;
    this.sessionStart = { total: 1000, remaining: sessionStartRemaining, resetAfter: sessionResetAfter, resetAt: performance.now() + sessionResetAfter };
    this.botUser = userObject({ id: BOT_ID, username: BOT_NAME, bot: true });
    this.users = new Map([[BOT_ID, { id: BOT_ID, username: BOT_NAME, bot: true }], [ALICE.id, ALICE]]);
    this.channels = new Map([[TOWN, { id: TOWN, type: 0, guild_id: GUILD_ID, name: 'town' }]]);
    this.dmChannels = new Map(); // user id -> channel id
    this.history = new Map([[TOWN, []]]); // channel id -> messages, oldest first (REST shape)
    this.lastId = 0n;
    this.buckets = new Map(); // channel id -> {remaining, resetAt}
    this.globalWindow = { count: 0, resetAt: 0 };
    this.injected = []; // {scope, count, retryAfter}
    this.faults = []; // {method, path, mode, n}: see fail()
    this.nonces = new Map(); // channel/nonce -> {message, at}: enforce_nonce
    this.nonceHits = 0; // posts answered with the message their nonce made before
    this.cuts = 0; // dispatches to cut in the middle of their frame: see cutNext()
    this.globalUntil = 0; // end of the injected global wait
    this.sockets = new Set();
    this.sessions = new Map(); // session id -> {id, intents, seq, log, ws, invalid}
    // what clients did, for assertions
    this.posts = []; // {channel_id, body, message, at}: the bot's messages, in order
    this.requests = []; // {method, path, query, headers (no Authorization), body, at, status}
    this.frames = []; // {socket, at, frame (parsed JSON, or null and raw)}
    this.connections = []; // {path, query, at, code, closedBy}: code and closedBy once closed
    this.identifies = 0;
    this.resumes = 0;
    this.heartbeats = 0;
    this.violations = 0;
    this.limitedAt = []; // when each injected 429 was sent
    this.earlyDuringGlobal = 0;
  }

  // Snowflakes from the time, as Discord's, and always increasing.
  nextId() {
    const fromClock = (BigInt(Date.now()) - DISCORD_EPOCH) << 22n;
    this.lastId = fromClock > this.lastId ? fromClock : this.lastId + 1n;
    return String(this.lastId);
  }

  json(res, status, body, extra = {}) {
    super.json(res, status, body, { 'Content-Type': 'application/json', ...extra });
  }

  // ---------------------------------------------------------------- REST

  async onRequest(req, res, url) {
    const { body: raw, tooLarge } = await this.readBody(req);
    const at = performance.now();
    const { authorization, ...headers } = req.headers;
    const entry = { method: req.method, path: url.pathname, query: url.search, headers, body: raw.toString('utf8'), at, status: 0 };
    this.requests.push(entry);
    this.logSent({ via: 'http', method: req.method, path: url.pathname + url.search, body: entry.body });
    const answer = (status, body, extra) => {
      entry.status = status;
      this.json(res, status, body, extra);
    };
    if (!url.pathname.startsWith('/api/v10/')) return answer(404, { message: '404: Not Found', code: 0 });
    if (authorization !== `Bot ${this.token}`) return answer(401, { message: '401: Unauthorized', code: 0 });
    const mode = this.fault(req.method, url.pathname);
    if (mode === 'hang') return undefined; // answered never: the socket stays open until close()
    if (mode === 500) return answer(500, { message: '500: Internal Server Error', code: 0 });
    // a message is created all the same; any other call is answered at once
    if (mode === 'garbage' && !(req.method === 'POST' && /^\/api\/v10\/channels\/\d+\/messages$/.test(url.pathname))) return this.garbage(res, entry);
    const limited = this.globalLimit(at);
    if (limited) return answer(429, limited.body, limited.headers);
    if (tooLarge) return answer(413, { message: 'Request entity too large', code: 40005 });
    let path;
    try {
      path = decodeURIComponent(url.pathname.slice('/api/v10'.length)); // @me comes as %40me
    } catch {
      return answer(404, { message: '404: Not Found', code: 0 });
    }
    const known = (method, handler) => (req.method === method ? handler() : answer(405, { message: '405: Method Not Allowed', code: 0 }));
    if (path === '/gateway/bot') return known('GET', () => answer(200, this.gatewayBot()));
    if (path === '/users/@me') return known('GET', () => answer(200, this.botUser));
    const m = /^\/channels\/(\d+)\/messages$/.exec(path);
    if (m && req.method === 'POST') {
      let reply = answer;
      if (mode === 'garbage') reply = (status, body, extra) => (status === 200 ? this.garbage(res, entry) : answer(status, body, extra));
      if (mode === 'lost') reply = (status, body, extra) => (status === 200 ? answer(500, { message: '500: Internal Server Error', code: 0 }) : answer(status, body, extra));
      return this.createMessage(m[1], req, entry, at, reply);
    }
    if (m) return known('GET', () => this.listMessages(m[1], url.searchParams, answer));
    return answer(404, { message: '404: Not Found', code: 0 });
  }

  // Discord's global limit: 50 requests a second, and nothing at all during an injected global
  // wait. Returns the 429 to answer, or null.
  globalLimit(at) {
    if (at < this.globalUntil) {
      this.earlyDuringGlobal++;
      return this.tooMany('global', (this.globalUntil - at) / 1000);
    }
    if (at >= this.globalWindow.resetAt) this.globalWindow = { count: 0, resetAt: at + 1000 };
    if (this.globalWindow.count >= this.globalPerSecond) {
      this.violations++;
      return this.tooMany('global', (this.globalWindow.resetAt - at) / 1000);
    }
    this.globalWindow.count++;
    return null;
  }

  // A 429: its body and headers, for a wait of retryAfter seconds.
  tooMany(scope, retryAfter, bucketHeaders = {}) {
    const body = { message: 'You are being rate limited.', retry_after: Number(seconds(retryAfter * 1000)), global: scope === 'global' };
    const headers = { 'Retry-After': String(Math.ceil(retryAfter)), 'X-RateLimit-Scope': scope === 'global' ? 'global' : 'user', ...bucketHeaders };
    if (scope === 'global') headers['X-RateLimit-Global'] = 'true';
    return { body, headers };
  }

  gatewayBot() {
    const s = this.sessionLimit();
    return {
      url: `ws://127.0.0.1:${this.port}`,
      shards: 1,
      session_start_limit: { total: s.total, remaining: s.remaining, reset_after: Math.ceil(s.resetAt - performance.now()), max_concurrency: 1 },
    };
  }

  // The session start limit, renewed when its window is over.
  sessionLimit() {
    const s = this.sessionStart;
    const now = performance.now();
    if (now >= s.resetAt) {
      s.remaining = s.total;
      s.resetAt = now + s.resetAfter;
    }
    return s;
  }

  // The channel's bucket at `at`: a fixed window that starts with its first request.
  channelBucket(channelId, at) {
    let b = this.buckets.get(channelId);
    if (!b || at >= b.resetAt) {
      b = { remaining: this.bucket.limit, resetAt: at + this.bucket.windowMs };
      this.buckets.set(channelId, b);
    }
    return b;
  }

  bucketHeaders(b, at) {
    return {
      'X-RateLimit-Limit': String(this.bucket.limit),
      'X-RateLimit-Remaining': String(b.remaining),
      'X-RateLimit-Reset': ((Date.now() + (b.resetAt - at)) / 1000).toFixed(3),
      'X-RateLimit-Reset-After': seconds(b.resetAt - at),
      'X-RateLimit-Bucket': MESSAGES_BUCKET,
    };
  }

  createMessage(channelId, req, entry, at, answer) {
    const b = this.channelBucket(channelId, at);
    if (b.remaining === 0) {
      this.violations++;
      const { body, headers } = this.tooMany('bucket', (b.resetAt - at) / 1000, this.bucketHeaders(b, at));
      return answer(429, body, headers);
    }
    const inj = this.injected[0];
    if (inj) {
      if (--inj.count <= 0) this.injected.shift();
      this.limitedAt.push(at);
      if (inj.scope === 'global') {
        this.globalUntil = at + inj.retryAfter * 1000;
        const { body, headers } = this.tooMany('global', inj.retryAfter);
        return answer(429, body, headers);
      }
      // the bucket is spent until the wait is over: posting again sooner is a violation
      b.remaining = 0;
      b.resetAt = at + inj.retryAfter * 1000;
      const { body, headers } = this.tooMany('bucket', inj.retryAfter, this.bucketHeaders(b, at));
      return answer(429, body, headers);
    }
    b.remaining--;
    const rl = this.bucketHeaders(b, at);
    const fail = (status, body) => answer(status, body, rl);
    const channel = this.channels.get(channelId);
    if (!channel) return fail(404, { message: 'Unknown Channel', code: 10003 });
    // a body of another type is read as a form, which holds no content
    if (!/^application\/json\b/i.test(req.headers['content-type'] || '')) return fail(400, { message: 'Cannot send an empty message', code: 50006 });
    let body;
    try {
      body = JSON.parse(entry.body);
    } catch {
      return fail(400, { message: 'The request body contains invalid JSON.', code: 50109 });
    }
    if (!body || typeof body !== 'object') return fail(400, { message: 'The request body contains invalid JSON.', code: 50109 });
    const content = body.content == null ? '' : body.content;
    if (typeof content !== 'string') return fail(400, formError('content', 'BASE_TYPE_STRING', 'Must be a string.'));
    const embeds = Array.isArray(body.embeds) ? body.embeds : [];
    if (content === '' && embeds.length === 0) return fail(400, { message: 'Cannot send an empty message', code: 50006 });
    if ([...content].length > MAX_CONTENT) return fail(400, formError('content', 'BASE_TYPE_MAX_LENGTH', `Must be ${MAX_CONTENT} or fewer in length.`));
    let reference = null;
    const ref = body.message_reference;
    if (ref) {
      reference = this.findMessage(ref.channel_id || channelId, ref.message_id);
      if (!reference && ref.fail_if_not_exists !== false) return fail(400, formError('message_reference', 'REPLIES_UNKNOWN_MESSAGE', 'Unknown message'));
    }
    if (body.nonce !== undefined && (typeof body.nonce !== 'string' || body.nonce.length > 25) && typeof body.nonce !== 'number') {
      return fail(400, formError('nonce', 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 25 in length.'));
    }
    // enforce_nonce: the same nonce from the same author in the same channel within a few
    // minutes returns the message made the first time, and makes none
    const nonceKey = body.enforce_nonce === true && body.nonce !== undefined ? `${channelId}/${body.nonce}` : null;
    const made = nonceKey && this.nonces.get(nonceKey);
    if (made && Date.now() - made.at < 5 * 60 * 1000) {
      this.nonceHits++;
      return answer(200, made.message, rl);
    }
    const message = this.makeMessage(channel, this.users.get(BOT_ID), content, {
      reference,
      embeds,
      tts: body.tts === true,
      nonce: body.nonce,
    });
    if (nonceKey) this.nonces.set(nonceKey, { message, at: Date.now() });
    this.posts.push({ channel_id: channelId, body, message, at });
    this.deliver(channel, message, memberObject());
    this.emit('post', message);
    return answer(200, message, rl);
  }

  findMessage(channelId, id) {
    return (this.history.get(channelId) || []).find((m) => m.id === id) || null;
  }

  // GET /channels/{id}/messages: after=, before= or the newest; newest first, as Discord.
  listMessages(channelId, q, answer) {
    const all = this.history.get(channelId);
    if (!all) return answer(404, { message: 'Unknown Channel', code: 10003 });
    const limit = q.has('limit') ? Number(q.get('limit')) : 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) return answer(400, formError('limit', 'NUMBER_TYPE_MAX', 'int value should be less than or equal to 100.'));
    let list;
    if (q.has('after')) {
      const after = BigInt(q.get('after') || 0);
      list = all.filter((m) => BigInt(m.id) > after).slice(0, limit);
    } else if (q.has('before')) {
      const before = BigInt(q.get('before') || 0);
      list = all.filter((m) => BigInt(m.id) < before).slice(-limit);
    } else {
      list = all.slice(-limit);
    }
    return answer(200, list.reverse().map((m) => this.withContent(m, this.messageContent)));
  }

  // The message as one without the MESSAGE_CONTENT intent sees it: guild messages that neither
  // mention the bot nor come from it lose their content.
  withContent(m, allowed) {
    const dm = this.channels.get(m.channel_id).type === 1;
    if (allowed || dm || m.author.id === BOT_ID || m.mentions.some((u) => u.id === BOT_ID)) return m;
    return { ...m, content: '', embeds: [], attachments: [], components: [] };
  }

  // ---------------------------------------------------------------- messages

  // A message as REST returns it (the gateway adds guild_id, member and channel_type).
  makeMessage(channel, author, content, { reference = null, embeds = [], tts = false, nonce, mentionIds = [], webhookId = null, type } = {}) {
    const ids = new Set(mentionIds);
    for (const [, id] of content.matchAll(/<@!?(\d+)>/g)) ids.add(id);
    const message = {
      id: this.nextId(),
      channel_id: channel.id,
      author: webhookId ? { id: webhookId, username: author.username, discriminator: '0000', avatar: null, bot: true } : userObject(author),
      content,
      timestamp: discordTime(Date.now()),
      edited_timestamp: null,
      tts,
      mention_everyone: /@(everyone|here)\b/.test(content),
      mentions: [...ids].map((id) => userObject(this.users.get(id) || { id, username: `user${id.slice(-4)}` })),
      mention_roles: [...content.matchAll(/<@&(\d+)>/g)].map((x) => x[1]),
      attachments: [],
      embeds,
      components: [],
      pinned: false,
      type: type ?? (reference ? 19 : 0),
      flags: 0,
    };
    if (webhookId) message.webhook_id = webhookId;
    if (nonce !== undefined) message.nonce = nonce;
    if (reference) {
      message.message_reference = { type: 0, message_id: reference.id, channel_id: reference.channel_id, ...(channel.guild_id ? { guild_id: channel.guild_id } : {}) };
      message.referenced_message = { ...reference };
      delete message.referenced_message.referenced_message; // one level deep, as Discord nests them
    }
    return message;
  }

  // Stores a message and dispatches MESSAGE_CREATE to every live session whose intents ask for
  // it; member: the author's (guild messages by people or the bot).
  deliver(channel, message, member) {
    this.history.get(channel.id).push(message);
    const guild = channel.type === 0;
    const d = guild
      ? { ...message, guild_id: channel.guild_id, ...(member ? { member } : {}), mentions: message.mentions.map((u) => ({ ...u, member: memberObject() })) }
      : { ...message, channel_type: 1 };
    for (const session of this.sessions.values()) {
      if (session.invalid) continue;
      if (!(session.intents & (guild ? INTENT.GUILD_MESSAGES : INTENT.DIRECT_MESSAGES))) continue;
      this.dispatch(session, 'MESSAGE_CREATE', this.withContent(d, session.intents & INTENT.MESSAGE_CONTENT));
    }
  }

  dmChannel(user) {
    let id = this.dmChannels.get(user.id);
    if (!id) {
      id = `4${String(this.dmChannels.size + 1).padStart(18, '0')}`;
      this.dmChannels.set(user.id, id);
      this.channels.set(id, { id, type: 1, recipients: [userObject(user)] });
      this.history.set(id, []);
    }
    return this.channels.get(id);
  }

  // A person writes content in a guild channel. user: {id, username, bot?}; mentions: user ids
  // (besides the <@id> in content, which are mentions as on Discord); roles: the author's;
  // webhookId: sent by that webhook instead; type: the message type; referenceId: replying to
  // that message. Returns the message (REST shape, content kept whatever the intents).
  say(content, { user = ALICE, channel = TOWN, mentions = [], roles = [], webhookId = null, type, referenceId = null } = {}) {
    const ch = this.channels.get(channel);
    if (!ch || ch.type !== 0) throw new Error(`fake-discord: say() needs a guild channel, not ${channel}`);
    return this.speak(ch, content, { user, mentions, roles, webhookId, type, referenceId });
  }

  // The same in the DM channel between the bot and user.
  dm(content, { user = ALICE, mentions = [], type, referenceId = null } = {}) {
    return this.speak(this.dmChannel(user), content, { user, mentions, type, referenceId });
  }

  speak(channel, content, { user, mentions, roles = [], webhookId = null, type, referenceId }) {
    if (!webhookId) this.users.set(user.id, user);
    let reference = null;
    if (referenceId) {
      reference = this.findMessage(channel.id, referenceId);
      if (!reference) throw new Error(`fake-discord: no message ${referenceId} in ${channel.id}`);
    }
    const author = webhookId ? user : this.users.get(user.id);
    const message = this.makeMessage(channel, author, content, { reference, mentionIds: mentions, webhookId, type });
    this.deliver(channel, message, channel.type === 0 && !webhookId ? memberObject(roles) : null);
    return message;
  }

  // ---------------------------------------------------------------- gateway

  acceptSocket() {
    return true; // on any path, as the gateway: the checks come once it is a WebSocket
  }

  onSocket(ws, req, url) {
    const conn = { path: url.pathname, query: Object.fromEntries(url.searchParams), at: performance.now() };
    ws.index = this.connections.length;
    this.connections.push(conn);
    ws.session = null;
    ws.zombie = false;
    ws.closedByUs = false;
    ws.recent = []; // when the client sent its frames, for the send limit
    this.sockets.add(ws);
    ws.on('error', () => {});
    ws.on('close', (code) => {
      clearTimeout(ws.watchdog);
      this.sockets.delete(ws);
      conn.code = code;
      conn.closedBy = ws.closedByUs ? 'server' : 'client';
      const s = ws.session;
      if (s && s.ws === ws) {
        s.ws = null;
        if (!ws.closedByUs && (code === 1000 || code === 1001)) s.invalid = true;
      }
    });
    if (conn.query.v !== '10') return this.closeSocket(ws, 4012, 'Invalid API version');
    if (conn.query.encoding !== 'json') return this.closeSocket(ws, 4002, 'Error while decoding payload.');
    ws.on('message', (data) => this.onFrame(ws, data));
    this.send(ws, { op: OP.HELLO, d: { heartbeat_interval: this.heartbeatInterval } });
    this.armWatchdog(ws);
    return undefined;
  }

  // Discord closes a connection that stops heartbeating; resumable, hence 4000.
  armWatchdog(ws) {
    clearTimeout(ws.watchdog);
    ws.watchdog = setTimeout(() => {
      if (!ws.zombie) this.closeSocket(ws, 4000, 'Heartbeat timed out.');
    }, this.heartbeatInterval * 2.5);
  }

  send(ws, frame) {
    if (ws.readyState !== WebSocket.OPEN || ws.zombie) return;
    ws.send(JSON.stringify({ op: frame.op, d: frame.d ?? null, s: frame.s ?? null, t: frame.t ?? null }));
  }

  closeSocket(ws, code, reason) {
    ws.closedByUs = true;
    ws.close(code, reason);
  }

  onFrame(ws, data) {
    const at = performance.now();
    const text = data.toString('utf8');
    this.logSent({ via: 'ws', body: text });
    let frame = null;
    try {
      frame = JSON.parse(text);
    } catch {
      /* answered below, once recorded */
    }
    this.frames.push(frame ? { socket: ws.index, at, frame } : { socket: ws.index, at, frame: null, raw: text });
    if (ws.zombie) return; // a half-dead link: nothing gets through
    ws.recent = ws.recent.filter((t) => at - t < SEND_WINDOW_MS);
    ws.recent.push(at);
    if (ws.recent.length > SEND_LIMIT) return this.closeSocket(ws, 4008, 'Rate limited.');
    if (data.length > MAX_FRAME || !frame || typeof frame !== 'object') return this.closeSocket(ws, 4002, 'Error while decoding payload.');
    switch (frame.op) {
      case OP.HEARTBEAT:
        this.heartbeats++;
        this.armWatchdog(ws);
        return this.send(ws, { op: OP.HEARTBEAT_ACK });
      case OP.IDENTIFY:
        return this.identify(ws, frame.d || {});
      case OP.RESUME:
        return this.resume(ws, frame.d || {});
      default:
        if (!SESSION_OPS.has(frame.op)) return this.closeSocket(ws, 4001, 'Unknown opcode.');
        if (!ws.session) return this.closeSocket(ws, 4003, 'Not authenticated.');
        return undefined; // presence, voice, member requests: nothing the fake answers
    }
  }

  identify(ws, d) {
    if (ws.session) return this.closeSocket(ws, 4005, 'Already authenticated.');
    if (d.token !== this.token) return this.closeSocket(ws, 4004, 'Authentication failed.');
    const intents = d.intents;
    if (!Number.isInteger(intents) || intents < 0 || intents > ALL_INTENTS) return this.closeSocket(ws, 4013, 'Invalid intent(s).');
    if ((intents & INTENT.MESSAGE_CONTENT && !this.messageContent) || intents & OTHER_PRIVILEGED) return this.closeSocket(ws, 4014, 'Disallowed intent(s).');
    if (d.shard !== undefined && !(Array.isArray(d.shard) && d.shard[0] === 0 && d.shard[1] === 1)) return this.closeSocket(ws, 4010, 'Invalid shard.');
    const limit = this.sessionLimit();
    if (limit.remaining <= 0) return this.send(ws, { op: OP.INVALID_SESSION, d: false }); // no session can start
    limit.remaining--;
    this.identifies++;
    const session = { id: crypto.randomBytes(16).toString('hex'), intents, seq: 0, log: [], ws, invalid: false };
    this.sessions.set(session.id, session);
    ws.session = session;
    this.dispatch(session, 'READY', {
      v: 10,
      user: { ...this.botUser, verified: true, mfa_enabled: false, flags: 0, email: null },
      guilds: [{ id: GUILD_ID, unavailable: true }],
      session_id: session.id,
      session_type: 'normal',
      resume_gateway_url: `ws://127.0.0.1:${this.port}/resume`,
      shard: [0, 1],
      application: { id: BOT_ID, flags: this.messageContent ? APP_FLAG_MESSAGE_CONTENT_LIMITED : 0 },
      private_channels: [],
      relationships: [],
      presences: [],
      guild_join_requests: [],
      user_settings: {},
    });
    // the guild arrives only to those who asked for the GUILDS intent (discord.js counts on it)
    if (intents & INTENT.GUILDS) this.dispatch(session, 'GUILD_CREATE', this.guildCreate());
    return undefined;
  }

  guildCreate() {
    const history = this.history.get(TOWN);
    return {
      id: GUILD_ID,
      name: 'Peace plan watchers',
      icon: null,
      splash: null,
      discovery_splash: null,
      banner: null,
      description: null,
      owner_id: ALICE.id,
      application_id: null,
      features: [],
      afk_channel_id: null,
      afk_timeout: 300,
      system_channel_id: null,
      system_channel_flags: 0,
      rules_channel_id: null,
      public_updates_channel_id: null,
      safety_alerts_channel_id: null,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      mfa_level: 0,
      nsfw_level: 0,
      premium_tier: 0,
      premium_subscription_count: 0,
      premium_progress_bar_enabled: false,
      preferred_locale: 'en-US',
      max_members: 500000,
      max_video_channel_users: 25,
      vanity_url_code: null,
      joined_at: JOINED_AT,
      large: false,
      lazy: true,
      unavailable: false,
      member_count: 2,
      roles: [
        roleObject(GUILD_ID, '@everyone', 0, '1071698660929'), // @everyone has the guild's id
        roleObject(ROLE_MOD, 'moderators', 1, '1071698660929'),
      ],
      channels: [{ id: TOWN, type: 0, guild_id: GUILD_ID, name: 'town', position: 0, permission_overwrites: [], topic: null, nsfw: false, parent_id: null, rate_limit_per_user: 0, flags: 0, last_message_id: history.length ? history.at(-1).id : null }],
      threads: [],
      members: [{ ...memberObject(), user: this.botUser }],
      emojis: [],
      stickers: [],
      presences: [],
      voice_states: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
    };
  }

  resume(ws, d) {
    if (ws.session) return this.closeSocket(ws, 4005, 'Already authenticated.');
    if (d.token !== this.token) return this.closeSocket(ws, 4004, 'Authentication failed.');
    const session = this.sessions.get(d.session_id);
    const seq = Number.isInteger(d.seq) ? d.seq : 0;
    if (session && !session.invalid && seq > session.seq) return this.closeSocket(ws, 4007, 'Invalid seq.');
    // a session that is gone, or whose missed events are no longer kept, cannot resume
    if (!session || session.invalid || (session.log.length && session.log[0].s > seq + 1)) {
      return this.send(ws, { op: OP.INVALID_SESSION, d: false });
    }
    if (session.ws && session.ws !== ws) session.ws.terminate(); // resumed elsewhere
    session.ws = ws;
    ws.session = session;
    this.resumes++;
    for (const frame of session.log) if (frame.s > seq) this.send(ws, frame);
    this.dispatch(session, 'RESUMED', {});
    return undefined;
  }

  // Sends a dispatch in a session (kept for a resume; sent if the session has a live socket).
  dispatch(session, t, d) {
    const frame = { op: OP.DISPATCH, d, s: ++session.seq, t };
    session.log.push(frame);
    if (session.log.length > KEEP_DISPATCHES) session.log.shift();
    if (!session.ws) return;
    if (this.cuts > 0 && t !== 'READY' && t !== 'RESUMED' && t !== 'GUILD_CREATE' && !session.ws.zombie) {
      this.cuts--;
      const ws = session.ws;
      this.sockets.delete(ws);
      session.ws = null; // kept for the resume, as Discord keeps it
      this.cutFrame(ws._socket, JSON.stringify(frame));
      return;
    }
    this.send(session.ws, frame);
  }

  // ---------------------------------------------------------------- control

  // Every socket, gone without a close frame (a dead link: the client sees 1006).
  dropSockets() {
    for (const ws of this.sockets) ws.terminate();
  }

  closeSockets(code = 4000, reason = '') {
    for (const ws of this.sockets) this.closeSocket(ws, code, reason);
  }

  // The next n calls of method on path (the URL's path, /api/v10/...) are answered 500, with a
  // 200 whose JSON is cut short ('garbage': a message is created all the same), 500 after the
  // message is made ('lost': a client cannot tell it from a failure), or never ('hang').
  fail(method, path, mode, n = 1) {
    this.faults.push({ method, path, mode, n });
  }

  // The fault asked for this call, if any (counted down); path may be a RegExp.
  fault(method, path) {
    const f = this.faults.find((x) => x.n > 0 && x.method === method && (x.path instanceof RegExp ? x.path.test(path) : x.path === path));
    if (!f) return null;
    f.n--;
    return f.mode;
  }

  // A 200 whose JSON is cut short, as a proxy dying mid-answer sends.
  garbage(res, entry) {
    entry.status = 200;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"id": "not quite json');
  }

  // Sends data as it is, as a frame (text, or binary), to every socket.
  sendRaw(data, { binary = false } = {}) {
    for (const ws of this.sockets) if (ws.readyState === WebSocket.OPEN) ws.send(data, { binary });
  }

  // The next n dispatches (not READY, RESUMED or GUILD_CREATE) are cut in the middle of their
  // frame and the connection reset; the session keeps them for the resume.
  cutNext(n = 1) {
    this.cuts += n;
  }

  // op 7 to every socket with a session: the client should close and resume.
  reconnect() {
    for (const ws of this.sockets) if (ws.session) this.send(ws, { op: OP.RECONNECT });
  }

  // op 9 to every socket with a session, which is detached from it; resumable: whether it can
  // still be resumed (the client may do so on the same socket), else it is over.
  invalidSession(resumable = false) {
    for (const ws of this.sockets) {
      const s = ws.session;
      if (!s) continue;
      this.send(ws, { op: OP.INVALID_SESSION, d: Boolean(resumable) });
      s.ws = null;
      ws.session = null;
      if (!resumable) s.invalid = true;
    }
  }

  // op 1 to every socket: the client must heartbeat at once.
  requestHeartbeat() {
    for (const ws of this.sockets) this.send(ws, { op: OP.HEARTBEAT });
  }

  // on: the sockets open now become half-dead until they close (no acks, no events, nothing
  // they send is acted on; their sessions keep what is dispatched for a resume). New sockets
  // work. off: they come back to life.
  zombie(on = true) {
    for (const ws of this.sockets) ws.zombie = Boolean(on);
  }

  // The next `count` POST /channels/{id}/messages are answered 429 for retryAfter seconds:
  // scope 'bucket' (the channel's bucket) or 'global' (every request).
  rateLimit({ scope = 'bucket', count = 1, retryAfter = 1 } = {}) {
    if (scope !== 'bucket' && scope !== 'global') throw new Error(`fake-discord: rateLimit scope ${scope}`);
    this.injected.push({ scope, count, retryAfter });
  }

  // POST /_fake/NAME {…}: the control methods, for trying planbot by hand; GET /_fake/posts.
  async onControl(route, req, res) {
    const { body } = await this.readBody(req);
    if (req.method === 'GET' && route === 'posts') return this.json(res, 200, this.posts);
    let o;
    try {
      o = JSON.parse(body.toString('utf8') || '{}');
    } catch {
      return this.json(res, 400, { error: 'the body must be JSON' });
    }
    const controls = {
      say: () => this.say(String(o.content ?? ''), o),
      dm: () => this.dm(String(o.content ?? ''), o),
      drop: () => this.dropSockets(),
      dropSockets: () => this.dropSockets(),
      closeSockets: () => this.closeSockets(o.code, o.reason),
      reconnect: () => this.reconnect(),
      invalidSession: () => this.invalidSession(o.resumable),
      requestHeartbeat: () => this.requestHeartbeat(),
      zombie: () => this.zombie(o.on !== false),
      rateLimit: () => this.rateLimit(o),
    };
    if (req.method !== 'POST' || !Object.hasOwn(controls, route)) return this.json(res, 404, { error: 'no such control endpoint' });
    try {
      return this.json(res, 200, controls[route]() ?? { ok: true });
    } catch (e) {
      return this.json(res, 400, { error: e.message });
    }
  }

  async start() {
    await this.listen();
    this.url = this.baseUrl;
    return this;
  }

  async up() {
    await super.up();
    this.url = this.baseUrl;
    return this;
  }
}

async function startFakeDiscord(opts) {
  return new FakeDiscord(opts).start();
}

module.exports = { startFakeDiscord, FakeDiscord, BOT_ID, BOT_NAME, GUILD_ID, TOWN, ROLE_MOD, ALICE, INTENT };

if (require.main === module) {
  const args = process.argv.slice(2);
  const opt = (name, def) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : def;
  };
  startFakeDiscord({ port: Number(opt('--port', 0)), token: opt('--token', 'discord-test-token') }).then((f) => {
    console.log(f.url);
    console.error(`token: ${f.token}; API base (DISCORD_API_URL): ${f.url}/api; try: curl -X POST ${f.url}/_fake/say -d '{"content":"<@${BOT_ID}> How big can the army be?"}'`);
  });
}
