'use strict';
// A fake Slack backend for tests: Web API (subset) + Socket Mode WebSocket on one
// 127.0.0.1 port, built on the fakes' shared core (../fake/core.js).  See README.md next to this
// file for the control interface.
//
//   const { startFakeSlack } = require('./fake_slack');
//   const fake = await startFakeSlack({ ackTimeoutMs: 500 });
//   ... point the bot at fake.apiUrl ...
//   fake.event({ type: 'app_mention', text: '<@UBOT> hi' });
//   await fake.waitForPosts(1, 5000);
//   await fake.close();
//
// Standalone: node tests/slack/fake_slack.js [--port N] [--ack-timeout-ms N] ...
//
// With {tls: {key, cert}} (PEM) the same port serves HTTPS and wss:// instead of HTTP and ws://.

const fs = require('node:fs');
const crypto = require('node:crypto');
const { performance } = require('node:perf_hooks');
const { WebSocket } = require('ws');
const { FakeServer } = require('../fake/core');

const DEBUG = !!process.env.FAKE_SLACK_DEBUG && process.env.FAKE_SLACK_DEBUG !== '0';
function debug(...args) {
  if (DEBUG) console.error('[fake-slack]', ...args);
}

const TEAM_ID = 'T1';
const APP_ID = 'A1';
const BOT_USER_ID = 'UBOT';
const BOT_ID = 'BBOT';
const VERIFICATION_TOKEN = 'fake-verification-token';
const MAX_SOCKETS = 10;
const MAX_BODY_BYTES = 1 << 20;
const MAX_TEXT_CHARS = 40000;
const MAX_BLOCKS = 50;
const CLOSE_GRACE_MS = 2000; // after our close frame, terminate if the peer never answers

const DEFAULTS = {
  port: 0,
  appToken: 'xapp-1-test',
  botToken: 'xoxb-test',
  ackTimeoutMs: 3000,
  maxRetries: 3,
  serverPingMs: 0,
  echo: false,
  helloDelayMs: 0,
  tls: null, // {key, cert} (PEM strings or Buffers): serve https:// and wss:// instead
  linkPort: 0, // the port named in apps.connections.open's socket URL (0 = the fake's own)
  linkHost: '127.0.0.1', // the host named there: 'localhost' makes the client look a name up
};

function newUuid() {
  return crypto.randomUUID();
}

function inferChannelType(channel) {
  if (typeof channel !== 'string') return 'channel';
  if (channel.startsWith('D')) return 'im';
  if (channel.startsWith('G')) return 'group';
  return 'channel';
}

function codePointLength(s) {
  let n = 0;
  for (const _ of s) n++; // eslint-disable-line no-unused-vars
  return n;
}

class FakeSlack extends FakeServer {
  constructor(opts = {}) {
    const o = { ...DEFAULTS };
    for (const [k, v] of Object.entries(opts || {})) if (v !== undefined) o[k] = v;
    super({
      name: 'fake-slack',
      port: o.port || 0,
      tls: o.tls,
      maxBody: MAX_BODY_BYTES,
      ws: { autoPong: false, maxPayload: MAX_BODY_BYTES }, // we answer pings ourselves so stall() can stop doing it
    });
    this.opts = o;
    this.apiUrl = '';

    /** every accepted chat.postMessage */
    this.posts = [];
    /** every accepted ack: {envelope_id, event_id, type, retry_attempt, payload, socketId, at, latencyMs} */
    this.acks = [];
    /** every POST to a slash/interactive response_url */
    this.responses = [];
    /** every Web API call: {method, encoding, ok, error, status, at} */
    this.apiCalls = [];

    this._conns = []; // open sockets, oldest first
    this._connSeq = 0;
    this._tickets = new Map(); // ticket -> {used}
    this._pending = []; // records waiting for a socket
    this._byEnvelope = new Map(); // envelope_id -> record (every id ever delivered)
    this._records = new Set(); // records delivered and not yet acked/expired
    this._lastTsMicros = 0;
    this._eventSeq = 0;
    this._rateLimit = { remaining: 0, retryAfter: 1 };
    this._failAuth = false;
    this._faults = new Map(); // API method -> {mode, remaining, delayMs}
    this._cutNext = 0; // deliveries still to cut off in the middle of their frame
    this._dieAfterHello = 0; // sockets still to drop right after their hello
    this._closed = false;
    this._waiters = new Set(); // long-poll timers from the control interface

    this._stats = {
      socketsOpened: 0,
      connectionsOpened: 0,
      authTests: 0,
      acks: 0,
      ackedEnvelopeIds: [],
      redeliveries: 0,
      deliveries: 0,
      expired: 0,
      pings: 0,
      pongs: 0,
      clientPings: 0,
      rateLimited: 0,
      unknownFrames: 0,
      lateAcks: 0,
      duplicateAcks: 0,
      framesReceived: 0,
      upgradesRejected: 0,
      disconnectsSent: 0,
      faultsServed: 0,
      framesCut: 0,
      closes: [],
    };

    this.on('tls_error', (entry) => debug('tlsClientError', entry.message));
  }

  async listen() {
    await super.listen();
    this.apiUrl = `${this.baseUrl}/api/`;
    debug('listening on', this.apiUrl);
    return this;
  }

  async close() {
    if (this._closed) return;
    this._closed = true;
    for (const rec of this._records) clearTimeout(rec.timer);
    this._records.clear();
    for (const t of this._waiters) clearTimeout(t);
    this._waiters.clear();
    for (const conn of [...this._conns]) {
      this._clearConnTimers(conn);
      try {
        conn.ws.terminate();
      } catch (_) {
        /* ignore */
      }
    }
    this._conns = [];
    await super.close();
  }

  // ---------------------------------------------------------------- identifiers

  _nextTs() {
    let us = Date.now() * 1000;
    if (us <= this._lastTsMicros) us = this._lastTsMicros + 1;
    this._lastTsMicros = us;
    const sec = Math.floor(us / 1e6);
    const frac = String(us % 1e6).padStart(6, '0');
    return `${sec}.${frac}`;
  }

  _nextEventId() {
    this._eventSeq += 1;
    return 'Ev' + this._eventSeq.toString(36).toUpperCase().padStart(4, '0') +
      crypto.randomBytes(4).toString('hex').toUpperCase();
  }

  _triggerId() {
    return `${Date.now()}.${crypto.randomInt(1e9)}.${crypto.randomBytes(8).toString('hex')}`;
  }

  // ---------------------------------------------------------------- public injection API

  /** Queue an events_api envelope; returns {event_id, ts, envelope_id}. */
  event(ev = {}) {
    ev = ev && typeof ev === 'object' ? ev : {};
    const type = typeof ev.type === 'string' && ev.type ? ev.type : 'app_mention';
    const ts = ev.ts != null ? String(ev.ts) : this._nextTs();
    const eventId = ev.event_id != null ? String(ev.event_id) : this._nextEventId();
    const eventTime = Number.isFinite(ev.event_time) ? ev.event_time : Math.floor(Date.now() / 1000);
    let channelType = ev.channel_type;
    const channel = ev.channel != null ? ev.channel : channelType === 'im' ? 'D1' : 'C1';
    if (channelType === undefined) {
      if (type === 'app_mention') channelType = 'channel';
      else if (type === 'message') channelType = inferChannelType(channel);
    }
    const isBot = ev.bot_id != null || ev.subtype === 'bot_message';
    const user = Object.prototype.hasOwnProperty.call(ev, 'user') ? ev.user : isBot ? undefined : 'U2';

    const event = { type };
    if (user != null) event.user = user;
    event.text = ev.text != null ? String(ev.text) : '';
    event.ts = ts;
    event.channel = channel;
    event.event_ts = ts;
    event.team = TEAM_ID;
    if (channelType != null) event.channel_type = channelType;
    for (const k of ['thread_ts', 'bot_id', 'subtype', 'hidden']) {
      if (ev[k] !== undefined && ev[k] !== null) event[k] = ev[k];
    }
    if (!isBot && ev.subtype == null && user != null && ev.client_msg_id === undefined) {
      event.client_msg_id = newUuid();
    }
    const reserved = new Set(['type', 'user', 'text', 'ts', 'channel', 'channel_type', 'thread_ts',
      'bot_id', 'subtype', 'hidden', 'event_id', 'event_time', 'event_ts', 'team']);
    for (const [k, v] of Object.entries(ev)) {
      if (!reserved.has(k) && v !== undefined) event[k] = v;
    }

    const payload = {
      token: VERIFICATION_TOKEN,
      team_id: TEAM_ID,
      context_team_id: TEAM_ID,
      api_app_id: APP_ID,
      event,
      type: 'event_callback',
      event_id: eventId,
      event_time: eventTime,
      authorizations: [{
        enterprise_id: null,
        team_id: TEAM_ID,
        user_id: BOT_USER_ID,
        is_bot: true,
        is_enterprise_install: false,
      }],
      is_ext_shared_channel: false,
      event_context: `4-${type}-${TEAM_ID}-${typeof channel === 'string' ? channel : ''}`,
    };
    const rec = this._newRecord('events_api', payload, eventId);
    this._enqueue(rec);
    return { event_id: eventId, ts, envelope_id: rec.firstEnvelopeId };
  }

  /** Queue a slash_commands envelope (not retried); returns {envelope_id, trigger_id}. */
  slash(cmd = {}) {
    cmd = cmd && typeof cmd === 'object' ? cmd : {};
    const id = crypto.randomBytes(6).toString('hex');
    const payload = {
      token: VERIFICATION_TOKEN,
      team_id: TEAM_ID,
      team_domain: 'fake',
      channel_id: 'C1',
      channel_name: 'general',
      user_id: 'U2',
      user_name: 'user2',
      command: '/planbot',
      text: '',
      api_app_id: APP_ID,
      is_enterprise_install: 'false',
      response_url: `${this.baseUrl}/_fake/response_url/${id}`,
      trigger_id: this._triggerId(),
      ...cmd,
    };
    const rec = this._newRecord('slash_commands', payload, null);
    this._enqueue(rec);
    return { envelope_id: rec.firstEnvelopeId, trigger_id: payload.trigger_id, response_url: payload.response_url };
  }

  /** Queue an interactive envelope (not retried); returns {envelope_id, trigger_id}. */
  interactive(p = {}) {
    p = p && typeof p === 'object' ? p : {};
    const id = crypto.randomBytes(6).toString('hex');
    const payload = {
      type: 'block_actions',
      user: { id: 'U2', username: 'user2', name: 'user2', team_id: TEAM_ID },
      api_app_id: APP_ID,
      token: VERIFICATION_TOKEN,
      trigger_id: this._triggerId(),
      team: { id: TEAM_ID, domain: 'fake' },
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: 'C1', name: 'general' },
      response_url: `${this.baseUrl}/_fake/response_url/${id}`,
      actions: [],
      ...p,
    };
    const rec = this._newRecord('interactive', payload, null);
    this._enqueue(rec);
    return { envelope_id: rec.firstEnvelopeId, trigger_id: payload.trigger_id, response_url: payload.response_url };
  }

  /**
   * Send a disconnect frame on every open socket (or only the newest with {which:'newest'}),
   * stop routing envelopes to them and close them after closeAfterMs unless the client does.
   * Returns the number of sockets notified.
   */
  disconnect(reason = 'refresh_requested', { closeAfterMs, which = 'all' } = {}) {
    reason = typeof reason === 'string' && reason ? reason : 'refresh_requested';
    if (!Number.isFinite(closeAfterMs) || closeAfterMs < 0) closeAfterMs = reason === 'warning' ? 10000 : 1000;
    let targets = this._conns.filter((c) => c.ws.readyState === WebSocket.OPEN);
    if (which === 'newest') targets = targets.slice(-1);
    for (const conn of targets) this._sendDisconnect(conn, reason, closeAfterMs);
    return targets.length;
  }

  /** Abruptly destroy every socket's TCP connection (no close frame). {reset:true} sends a RST. */
  drop({ reset = false } = {}) {
    const conns = [...this._conns];
    for (const conn of conns) {
      conn.closedBy = 'drop';
      try {
        if (reset && typeof conn.socket.resetAndDestroy === 'function') conn.socket.resetAndDestroy();
        else conn.socket.destroy();
      } catch (_) {
        /* ignore */
      }
    }
    return conns.length;
  }

  /**
   * Make every currently open socket go silent (half-open link): no pongs, nothing delivered,
   * frames from the client ignored. Sockets opened later behave normally. Returns count.
   */
  stall() {
    const conns = this._conns.filter((c) => !c.stalled);
    for (const conn of conns) {
      conn.stalled = true;
      if (conn.pingTimer) clearInterval(conn.pingTimer);
      conn.pingTimer = null;
    }
    return conns.length;
  }

  /** The next n chat.postMessage calls answer HTTP 429 with Retry-After. */
  rateLimit(n = 1, retryAfterSeconds = 1) {
    this._rateLimit = {
      remaining: Math.max(0, Math.floor(Number(n) || 0)),
      retryAfter: Math.max(0, Math.floor(Number(retryAfterSeconds) || 0)),
    };
  }

  /**
   * The next n calls of the Web API method go wrong, as mode says: 'http500' (HTTP 500 with an
   * HTML body), 'ok_false' ({ok:false, error:'internal_error'}), 'invalid_json' (HTTP 200 with a
   * body cut short), 'hang' (no answer at all until the fake closes) or 'slow' (the right answer,
   * delayMs late). n = 0 ends the fault.
   */
  fault(method, mode, n = 1, { delayMs = 4000 } = {}) {
    const modes = ['http500', 'ok_false', 'invalid_json', 'hang', 'slow'];
    if (!modes.includes(mode)) throw new Error(`fake-slack: fault mode ${mode} is not one of ${modes.join(', ')}`);
    this._faults.set(method, { mode, remaining: Math.max(0, Math.floor(Number(n) || 0)), delayMs });
  }

  /** Sends data as one frame (text unless binary) on the newest socket serving; false if none. */
  sendRaw(data, { binary = false } = {}) {
    const conn = this._target();
    if (!conn) return false;
    conn.ws.send(data, { binary }, () => {});
    return true;
  }

  /**
   * Cuts the next n deliveries off in the middle: the frame's header and half its payload go out,
   * then the TCP connection is reset. The envelope is delivered again on the next socket.
   */
  cutFrames(n = 1) {
    this._cutNext = Math.max(0, Math.floor(Number(n) || 0));
  }

  /** The next n sockets opened are dropped (TCP, no close frame) right after their hello. */
  dieAfterHello(n = 1) {
    this._dieAfterHello = Math.max(0, Math.floor(Number(n) || 0));
  }

  /** apps.connections.open and auth.test answer invalid_auth while on. */
  failAuth(on = true) {
    this._failAuth = !!on;
  }

  /** Forget posts/acks/responses/apiCalls (counters and sockets stay). */
  reset() {
    this.posts.length = 0;
    this.acks.length = 0;
    this.responses.length = 0;
    this.apiCalls.length = 0;
  }

  stats() {
    const s = this._stats;
    return {
      socketsOpen: this._conns.length,
      socketsOpened: s.socketsOpened,
      connectionsOpened: s.connectionsOpened,
      authTests: s.authTests,
      acks: s.acks,
      ackedEnvelopeIds: s.ackedEnvelopeIds.slice(),
      redeliveries: s.redeliveries,
      deliveries: s.deliveries,
      pending: this._pending.length,
      unacked: this._records.size,
      expired: s.expired,
      pings: s.pings,
      pongs: s.pongs,
      clientPings: s.clientPings,
      rateLimited: s.rateLimited,
      unknownFrames: s.unknownFrames,
      lateAcks: s.lateAcks,
      duplicateAcks: s.duplicateAcks,
      framesReceived: s.framesReceived,
      upgradesRejected: s.upgradesRejected,
      disconnectsSent: s.disconnectsSent,
      faultsServed: s.faultsServed,
      framesCut: s.framesCut,
      tlsErrors: this.tlsErrors.length,
      posts: this.posts.length,
      apiCalls: this.apiCalls.length,
      sockets: this._conns.map((c) => ({
        id: c.id, hello: c.helloSent, draining: c.draining, stalled: c.stalled,
      })),
      closes: s.closes.map((c) => ({ ...c })),
    };
  }

  /** Resolves with a copy of posts once at least n exist. */
  async waitForPosts(n = 1, timeoutMs = 5000) {
    try {
      await this.waitFor((f) => f.posts.length >= n, timeoutMs);
    } catch (_) {
      throw new Error(`fake-slack: wanted ${n} posts within ${timeoutMs} ms, got ${this.posts.length}`);
    }
    return this.posts.slice();
  }

  // ---------------------------------------------------------------- envelope bookkeeping

  _newRecord(kind, payload, eventId) {
    const envelopeId = newUuid();
    return {
      kind,
      payload,
      eventId,
      attempt: 0,
      envelopeId,
      firstEnvelopeId: envelopeId,
      retryable: kind === 'events_api',
      state: 'pending',
      conn: null,
      timer: null,
      deliveredAt: 0,
    };
  }

  _envelope(rec) {
    if (rec.kind === 'events_api') {
      return {
        envelope_id: rec.envelopeId,
        payload: rec.payload,
        type: 'events_api',
        accepts_response_payload: false,
        retry_attempt: rec.attempt,
        retry_reason: rec.attempt > 0 ? 'timeout' : '',
      };
    }
    return {
      envelope_id: rec.envelopeId,
      payload: rec.payload,
      type: rec.kind,
      accepts_response_payload: true,
    };
  }

  _enqueue(rec) {
    rec.state = 'pending';
    this._pending.push(rec);
    this._flush();
  }

  _target() {
    for (let i = this._conns.length - 1; i >= 0; i--) {
      const c = this._conns[i];
      if (c.helloSent && !c.draining && !c.stalled && c.ws.readyState === WebSocket.OPEN) return c;
    }
    return null;
  }

  _flush() {
    if (this._closed) return;
    while (this._pending.length) {
      const conn = this._target();
      if (!conn) return;
      const rec = this._pending.shift();
      this._deliver(rec, conn);
    }
  }

  _deliver(rec, conn) {
    const env = this._envelope(rec);
    const text = JSON.stringify(env);
    rec.state = 'delivered';
    rec.conn = conn;
    rec.deliveredAt = performance.now();
    conn.outstanding.add(rec);
    this._records.add(rec);
    this._byEnvelope.set(rec.envelopeId, rec);
    const envId = rec.envelopeId;
    rec.timer = setTimeout(() => this._ackTimeout(rec, envId), this.opts.ackTimeoutMs);
    this._stats.deliveries += 1;
    debug('deliver', rec.kind, envId, 'attempt', rec.attempt, 'socket', conn.id);
    if (this._cutNext > 0) {
      this._cutNext -= 1;
      this._cutFrame(conn, Buffer.from(text));
    } else {
      conn.ws.send(text, (err) => {
        if (err) debug('send failed', err.message); // the close handler re-queues it
      });
    }
    this.emit('deliver', { envelope: env, socketId: conn.id, at: rec.deliveredAt });
  }

  // Writes half of the frame and resets the connection (the core's cutFrame()).
  _cutFrame(conn, payload) {
    this._stats.framesCut += 1;
    conn.closedBy = 'cut';
    this.cutFrame(conn.socket, payload);
  }

  _detach(rec) {
    clearTimeout(rec.timer);
    rec.timer = null;
    if (rec.conn) rec.conn.outstanding.delete(rec);
    rec.conn = null;
    this._records.delete(rec);
  }

  _ackTimeout(rec, envId) {
    if (rec.state !== 'delivered' || rec.envelopeId !== envId) return;
    debug('ack timeout', envId);
    this._detach(rec);
    this._retry(rec);
  }

  _retry(rec) {
    if (this._closed) return;
    if (!rec.retryable || rec.attempt >= this.opts.maxRetries) {
      rec.state = 'expired';
      this._stats.expired += 1;
      this.emit('expired', { envelope_id: rec.envelopeId, event_id: rec.eventId, type: rec.kind, attempts: rec.attempt + 1 });
      return;
    }
    rec.attempt += 1;
    rec.envelopeId = newUuid();
    this._stats.redeliveries += 1;
    this.emit('redeliver', { envelope_id: rec.envelopeId, event_id: rec.eventId, retry_attempt: rec.attempt });
    this._enqueue(rec);
  }

  _onFrame(conn, data, isBinary) {
    this._stats.framesReceived += 1;
    this.logSent({ via: 'ws', body: isBinary ? '(binary)' : data.toString('utf8') });
    if (conn.stalled) return;
    let msg = null;
    if (!isBinary) {
      try {
        msg = JSON.parse(data.toString('utf8'));
      } catch (_) {
        msg = null;
      }
    }
    if (!msg || typeof msg !== 'object' || Array.isArray(msg) || typeof msg.envelope_id !== 'string') {
      this._stats.unknownFrames += 1;
      debug('unknown frame', isBinary ? '<binary>' : String(data).slice(0, 200));
      this.emit('unknown_frame', { socketId: conn.id, data: isBinary ? data : String(data) });
      return;
    }
    const id = msg.envelope_id;
    const rec = this._byEnvelope.get(id);
    if (!rec) {
      this._stats.unknownFrames += 1;
      this.emit('unknown_frame', { socketId: conn.id, data: String(data) });
      return;
    }
    if (rec.envelopeId !== id || rec.state === 'expired' || rec.state === 'pending') {
      this._stats.lateAcks += 1; // ack for a superseded delivery
      this.emit('late_ack', { envelope_id: id, event_id: rec.eventId });
      return;
    }
    if (rec.state === 'acked') {
      this._stats.duplicateAcks += 1;
      return;
    }
    const at = performance.now();
    const latencyMs = at - rec.deliveredAt;
    this._detach(rec);
    rec.state = 'acked';
    this._stats.acks += 1;
    this._stats.ackedEnvelopeIds.push(id);
    const entry = {
      envelope_id: id,
      event_id: rec.eventId,
      type: rec.kind,
      retry_attempt: rec.attempt,
      payload: msg.payload,
      socketId: conn.id,
      at,
      latencyMs,
    };
    this.acks.push(entry);
    debug('ack', id, `${latencyMs.toFixed(1)} ms`);
    this.emit('ack', entry);
  }

  // ---------------------------------------------------------------- sockets

  // The core asks before an upgrade: only /link/ with a ticket not used yet becomes a socket.
  acceptSocket(req, url) {
    const refuse = (status, text, error) => {
      this._stats.upgradesRejected += 1;
      return { status, text, body: JSON.stringify({ ok: false, error }) };
    };
    if (this._closed) return refuse(503, 'Service Unavailable', 'shutting_down');
    if (!url.pathname.startsWith('/link/')) return refuse(404, 'Not Found', 'not_found');
    const ticket = url.searchParams.get('ticket');
    const t = ticket ? this._tickets.get(ticket) : undefined;
    if (!t || t.used) {
      debug('upgrade refused, ticket', ticket, t ? 'used' : 'unknown');
      return refuse(401, 'Unauthorized', 'invalid_ticket');
    }
    t.used = true;
    return true;
  }

  onSocket(ws) {
    this._onSocket(ws, ws._socket);
  }

  _onSocket(ws, socket) {
    if (this._closed) {
      ws.terminate();
      return;
    }
    const conn = {
      id: ++this._connSeq,
      ws,
      socket,
      helloSent: false,
      draining: null,
      stalled: false,
      closedBy: null,
      outstanding: new Set(),
      helloTimer: null,
      pingTimer: null,
      closeTimer: null,
      killTimer: null,
      openedAt: performance.now(),
    };
    const tooMany = this._conns.length >= MAX_SOCKETS;
    this._conns.push(conn);
    this._stats.socketsOpened += 1;
    debug('socket open', conn.id, 'open now', this._conns.length);

    ws.on('message', (data, isBinary) => {
      try {
        this._onFrame(conn, data, isBinary);
      } catch (e) {
        debug('frame handler error', e && e.stack);
      }
    });
    ws.on('ping', (data) => {
      this._stats.clientPings += 1;
      if (!conn.stalled && ws.readyState === WebSocket.OPEN) {
        try {
          ws.pong(data);
        } catch (_) {
          /* ignore */
        }
      }
    });
    ws.on('pong', () => {
      if (!conn.stalled) this._stats.pongs += 1;
    });
    ws.on('error', (e) => debug('socket error', conn.id, e && e.message));
    ws.on('close', (code, reason) => this._onClose(conn, code, reason));
    this.emit('connection', { socketId: conn.id, socketsOpen: this._conns.length });

    if (tooMany) {
      this._sendDisconnect(conn, 'too_many_websockets', 0);
      return;
    }
    const sendHello = () => {
      conn.helloTimer = null;
      if (ws.readyState !== WebSocket.OPEN || conn.draining) return;
      const hello = {
        type: 'hello',
        num_connections: this._conns.length,
        debug_info: { host: 'fake', build_number: 1, approximate_connection_time: 3600 },
        connection_info: { app_id: APP_ID },
      };
      ws.send(JSON.stringify(hello), () => {});
      conn.helloSent = true;
      this.emit('hello', { socketId: conn.id });
      if (this._dieAfterHello > 0) {
        this._dieAfterHello -= 1;
        conn.stalled = true; // nothing more goes out on it
        conn.closedBy = 'drop';
        setTimeout(() => conn.socket.destroy(), 20);
        return;
      }
      this._flush();
    };
    if (this.opts.helloDelayMs > 0) conn.helloTimer = setTimeout(sendHello, this.opts.helloDelayMs);
    else sendHello();
    if (this.opts.serverPingMs > 0) {
      conn.pingTimer = setInterval(() => {
        if (conn.stalled || ws.readyState !== WebSocket.OPEN) return;
        try {
          ws.ping(Buffer.from(`fake ping ${Date.now()}`));
          this._stats.pings += 1;
        } catch (_) {
          /* ignore */
        }
      }, this.opts.serverPingMs);
    }
  }

  _sendDisconnect(conn, reason, closeAfterMs) {
    if (conn.ws.readyState !== WebSocket.OPEN) return;
    conn.draining = reason;
    this._stats.disconnectsSent += 1;
    conn.ws.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'fake' } }), () => {});
    this.emit('disconnect_sent', { socketId: conn.id, reason });
    if (conn.closeTimer) clearTimeout(conn.closeTimer);
    conn.closeTimer = setTimeout(() => {
      conn.closeTimer = null;
      this._serverClose(conn, 1000, reason);
    }, closeAfterMs);
  }

  _serverClose(conn, code, reason) {
    if (conn.ws.readyState !== WebSocket.OPEN) return;
    conn.closedBy = conn.closedBy || 'server';
    try {
      conn.ws.close(code, String(reason || '').slice(0, 120));
    } catch (_) {
      /* ignore */
    }
    conn.killTimer = setTimeout(() => {
      try {
        conn.ws.terminate();
      } catch (_) {
        /* ignore */
      }
    }, CLOSE_GRACE_MS);
  }

  _clearConnTimers(conn) {
    for (const k of ['helloTimer', 'closeTimer', 'killTimer']) {
      if (conn[k]) clearTimeout(conn[k]);
      conn[k] = null;
    }
    if (conn.pingTimer) clearInterval(conn.pingTimer);
    conn.pingTimer = null;
  }

  _onClose(conn, code, reason) {
    this._clearConnTimers(conn);
    const i = this._conns.indexOf(conn);
    if (i >= 0) this._conns.splice(i, 1);
    const info = {
      socketId: conn.id,
      code,
      reason: reason ? reason.toString() : '',
      by: conn.closedBy || 'client',
      draining: conn.draining,
    };
    this._stats.closes.push(info);
    debug('socket closed', info);
    const orphans = [...conn.outstanding];
    for (const rec of orphans) {
      this._detach(rec);
      this._retry(rec);
    }
    this.emit('close', info);
    this._flush();
  }

  // ---------------------------------------------------------------- HTTP

  // Every request outside /_fake/ (the core routes those to onControl).
  async onRequest(req, res, url) {
    if (url.pathname.startsWith('/api/')) return this._api(req, res, url);
    req.resume();
    return this.json(res, 404, { ok: false, error: 'not_found' });
  }

  onControl(route, req, res, url) {
    return this._control(req, res, url);
  }

  _parseArgs(req, body) {
    const rawType = String(req.headers['content-type'] || '');
    const [mime, ...params] = rawType.split(';').map((s) => s.trim());
    const type = mime.toLowerCase();
    const hasCharset = params.some((p) => /^charset=/i.test(p));
    const text = body.toString('utf8');
    if (type === 'application/json') {
      if (text.trim() === '') return { encoding: 'json', args: {}, hasCharset };
      let v;
      try {
        v = JSON.parse(text);
      } catch (_) {
        return { encoding: 'json', error: 'invalid_json', hasCharset };
      }
      if (!v || typeof v !== 'object' || Array.isArray(v)) return { encoding: 'json', error: 'invalid_json', hasCharset };
      return { encoding: 'json', args: v, hasCharset };
    }
    if (type === 'application/x-www-form-urlencoded' || type === '') {
      const args = {};
      for (const [k, val] of new URLSearchParams(text)) args[k] = val;
      return { encoding: 'form', args, hasCharset };
    }
    if (type === 'multipart/form-data') return { encoding: 'multipart', error: 'invalid_form_data', hasCharset };
    return { encoding: 'other', error: 'invalid_form_data', hasCharset };
  }

  async _api(req, res, url) {
    let method = url.pathname.slice('/api/'.length);
    try {
      method = decodeURIComponent(method);
    } catch (_) {
      /* keep raw */
    }
    if (req.method !== 'POST') {
      req.resume();
      return this.json(res, 405, { ok: false, error: 'method_not_allowed' }, { Allow: 'POST' });
    }
    const { body, tooLarge } = await this.readBody(req);
    this.logSent({ via: 'http', method: 'POST', path: url.pathname, body: tooLarge ? '' : body.toString('utf8') });
    const call = { method, encoding: null, ok: false, error: null, status: 200, at: performance.now() };
    this.apiCalls.push(call);
    let reply = (obj, status = 200, headers = {}) => {
      call.ok = !!obj.ok;
      call.error = obj.ok ? null : obj.error;
      call.status = status;
      this.json(res, status, obj, headers);
      this.emit('api', { ...call });
    };
    if (tooLarge) return reply({ ok: false, error: 'request_too_large' }, 413);
    const fault = this._faults.get(method);
    if (fault && fault.remaining > 0) {
      fault.remaining -= 1;
      this._stats.faultsServed += 1;
      call.fault = fault.mode;
      debug('fault', method, fault.mode);
      const raw = (status, type, body) => {
        call.status = status;
        res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
        res.end(body);
      };
      switch (fault.mode) {
        case 'http500': return raw(500, 'text/html', '<html><body>Internal Server Error</body></html>');
        case 'ok_false': return reply({ ok: false, error: 'internal_error' });
        case 'invalid_json': return raw(200, 'application/json; charset=utf-8', '{"ok":true,"url":"ws://127.0');
        case 'hang': return undefined; // the request stays open until close() ends every connection
        default: { // slow: the real answer, late
          const now = reply;
          reply = (...a) => {
            const t = setTimeout(() => {
              this._waiters.delete(t);
              now(...a);
            }, fault.delayMs);
            this._waiters.add(t);
          };
        }
      }
    }

    const parsed = this._parseArgs(req, body);
    call.encoding = parsed.encoding;
    const warn = (obj) => {
      // Slack flags JSON bodies sent without a charset
      if (parsed.encoding === 'json' && !parsed.hasCharset) {
        obj.warning = 'missing_charset';
        obj.response_metadata = { warnings: ['missing_charset'] };
      }
      return obj;
    };
    if (parsed.error) return reply(warn({ ok: false, error: parsed.error }));
    const args = parsed.args;

    let token = null;
    const auth = req.headers.authorization;
    if (typeof auth === 'string') {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
      if (m) token = m[1];
    }
    if (!token && parsed.encoding === 'form' && typeof args.token === 'string' && args.token) token = args.token;

    switch (method) {
      case 'api.test': {
        const echoArgs = { ...args };
        delete echoArgs.token;
        return reply(warn({ ok: true, args: echoArgs }));
      }
      case 'apps.connections.open': {
        this._stats.connectionsOpened += 1;
        if (!token) return reply(warn({ ok: false, error: 'not_authed' }));
        if (this._failAuth) return reply(warn({ ok: false, error: 'invalid_auth' }));
        if (/^xox[bpe]-/.test(token)) return reply(warn({ ok: false, error: 'not_allowed_token_type' }));
        if (token !== this.opts.appToken) return reply(warn({ ok: false, error: 'invalid_auth' }));
        const ticket = crypto.randomBytes(16).toString('hex');
        this._tickets.set(ticket, { used: false });
        return reply(warn({ ok: true, url: `${this.wsScheme}://${this.opts.linkHost}:${this.opts.linkPort || this.port}/link/?ticket=${ticket}&app_id=${APP_ID}` }));
      }
      case 'auth.test': {
        this._stats.authTests += 1;
        if (!token) return reply(warn({ ok: false, error: 'not_authed' }));
        if (this._failAuth) return reply(warn({ ok: false, error: 'invalid_auth' }));
        if (token === this.opts.appToken || token.startsWith('xapp-')) {
          return reply(warn({ ok: false, error: 'not_allowed_token_type' }));
        }
        if (token !== this.opts.botToken) return reply(warn({ ok: false, error: 'invalid_auth' }));
        return reply(warn({
          ok: true,
          url: 'https://fake.slack.com/',
          team: 'Fake',
          user: 'planbot',
          team_id: TEAM_ID,
          user_id: BOT_USER_ID,
          bot_id: BOT_ID,
          is_enterprise_install: false,
        }));
      }
      case 'chat.postMessage':
        return this._postMessage(args, token, parsed.encoding, reply, warn);
      default:
        return reply(warn({ ok: false, error: 'unknown_method' }));
    }
  }

  _postMessage(args, token, encoding, reply, warn) {
    if (this._rateLimit.remaining > 0) {
      this._rateLimit.remaining -= 1;
      this._stats.rateLimited += 1;
      const retryAfter = this._rateLimit.retryAfter;
      this.emit('ratelimited', { method: 'chat.postMessage', retryAfter });
      return reply({ ok: false, error: 'ratelimited' }, 429, { 'Retry-After': String(retryAfter) });
    }
    if (!token) return reply(warn({ ok: false, error: 'not_authed' }));
    if (token !== this.opts.botToken) {
      if (token === this.opts.appToken || token.startsWith('xapp-')) {
        return reply(warn({ ok: false, error: 'not_allowed_token_type' }));
      }
      return reply(warn({ ok: false, error: 'invalid_auth' }));
    }
    const channel = args.channel;
    if (typeof channel !== 'string' || channel.trim() === '') return reply(warn({ ok: false, error: 'channel_not_found' }));

    let blocks = args.blocks;
    if (typeof blocks === 'string') {
      if (blocks.trim() === '') {
        blocks = undefined;
      } else {
        try {
          blocks = JSON.parse(blocks);
        } catch (_) {
          return reply(warn({ ok: false, error: 'invalid_blocks' }));
        }
      }
    }
    if (blocks !== undefined && blocks !== null && (!Array.isArray(blocks) || blocks.length > MAX_BLOCKS)) {
      return reply(warn({ ok: false, error: 'invalid_blocks' }));
    }
    const hasBlocks = Array.isArray(blocks) && blocks.length > 0;
    let text = args.text;
    if (text !== undefined && text !== null && typeof text !== 'string') text = String(text);
    const hasText = typeof text === 'string' && text.length > 0;
    const hasAttachments = args.attachments !== undefined && args.attachments !== null && args.attachments !== '' &&
      args.attachments !== '[]';
    const hasMarkdown = typeof args.markdown_text === 'string' && args.markdown_text.length > 0;
    if (!hasText && !hasBlocks && !hasAttachments && !hasMarkdown) return reply(warn({ ok: false, error: 'no_text' }));
    if (hasText && codePointLength(text) > MAX_TEXT_CHARS) return reply(warn({ ok: false, error: 'msg_too_long' }));

    const ts = this._nextTs();
    const threadTs = args.thread_ts;
    const post = {
      channel,
      text: hasText ? text : hasMarkdown ? args.markdown_text : '',
      thread_ts: threadTs,
      ts,
      encoding,
      at: performance.now(),
      time: Date.now(),
      blocks: hasBlocks ? blocks : undefined,
      reply_broadcast: args.reply_broadcast,
      mrkdwn: args.mrkdwn,
      args,
    };
    this.posts.push(post);

    const message = {
      type: 'message',
      text: post.text,
      user: BOT_USER_ID,
      bot_id: BOT_ID,
      app_id: APP_ID,
      team: TEAM_ID,
      ts,
    };
    if (threadTs !== undefined && threadTs !== null && threadTs !== '') message.thread_ts = threadTs;
    if (hasBlocks) message.blocks = blocks;
    reply(warn({ ok: true, channel, ts, message }));
    this.emit('post', post);

    if (this.opts.echo) {
      const ev = {
        type: 'message',
        user: BOT_USER_ID,
        bot_id: BOT_ID,
        app_id: APP_ID,
        channel,
        text: post.text,
        ts,
      };
      if (message.thread_ts !== undefined) ev.thread_ts = String(message.thread_ts);
      this.event(ev);
    }
    return undefined;
  }

  // ---------------------------------------------------------------- control interface

  async _control(req, res, url) {
    const route = url.pathname.slice('/_fake/'.length);
    const isPost = req.method === 'POST';
    let body = {};
    if (isPost) {
      const { body: raw, tooLarge } = await this.readBody(req);
      if (tooLarge) return this.json(res, 413, { ok: false, error: 'request_too_large' });
      const s = raw.toString('utf8').trim();
      if (s) {
        try {
          body = JSON.parse(s);
        } catch (_) {
          return this.json(res, 400, { ok: false, error: 'invalid_json' });
        }
        if (!body || typeof body !== 'object' || Array.isArray(body)) body = {};
      }
    } else {
      req.resume();
    }
    const wantPost = () => {
      if (isPost) return true;
      this.json(res, 405, { ok: false, error: 'method_not_allowed' }, { Allow: 'POST' });
      return false;
    };
    const wantGet = () => {
      if (req.method === 'GET') return true;
      this.json(res, 405, { ok: false, error: 'method_not_allowed' }, { Allow: 'GET' });
      return false;
    };
    const num = (v, d) => (v === undefined || v === null || v === '' || !Number.isFinite(Number(v)) ? d : Number(v));

    if (route.startsWith('response_url/')) {
      if (!wantPost()) return undefined;
      const entry = { id: route.slice('response_url/'.length), body, at: performance.now() };
      this.responses.push(entry);
      this.emit('response', entry);
      return this.json(res, 200, { ok: true });
    }
    switch (route) {
      case 'event':
        if (!wantPost()) return undefined;
        return this.json(res, 200, { ok: true, ...this.event(body) });
      case 'slash':
        if (!wantPost()) return undefined;
        return this.json(res, 200, { ok: true, ...this.slash(body) });
      case 'interactive':
        if (!wantPost()) return undefined;
        return this.json(res, 200, { ok: true, ...this.interactive(body) });
      case 'disconnect': {
        if (!wantPost()) return undefined;
        const n = this.disconnect(body.reason, {
          closeAfterMs: num(body.closeAfterMs ?? body.close_after_ms, undefined),
          which: body.which === 'newest' ? 'newest' : 'all',
        });
        return this.json(res, 200, { ok: true, sockets: n });
      }
      case 'drop':
        if (!wantPost()) return undefined;
        return this.json(res, 200, { ok: true, sockets: this.drop({ reset: !!body.reset }) });
      case 'stall':
        if (!wantPost()) return undefined;
        return this.json(res, 200, { ok: true, sockets: this.stall() });
      case 'ratelimit':
        if (!wantPost()) return undefined;
        this.rateLimit(num(body.count, 1), num(body.retry_after ?? body.retryAfter, 1));
        return this.json(res, 200, { ok: true });
      case 'fail_auth':
        if (!wantPost()) return undefined;
        this.failAuth(body.on === undefined ? true : !!body.on);
        return this.json(res, 200, { ok: true });
      case 'reset':
        if (!wantPost()) return undefined;
        this.reset();
        return this.json(res, 200, { ok: true });
      case 'posts': {
        if (!wantGet()) return undefined;
        const since = Math.max(0, Math.floor(num(url.searchParams.get('since'), 0)));
        return this.json(res, 200, { ok: true, posts: this.posts.slice(since) });
      }
      case 'wait_posts': {
        if (!wantGet()) return undefined;
        const n = Math.max(0, Math.floor(num(url.searchParams.get('n'), 1)));
        const timeoutMs = Math.max(0, Math.min(600000, num(url.searchParams.get('timeout_ms'), 5000)));
        const deadline = performance.now() + timeoutMs;
        await new Promise((resolve) => {
          const tick = () => {
            if (this._closed || this.posts.length >= n || performance.now() >= deadline) {
              resolve();
              return;
            }
            const t = setTimeout(() => {
              this._waiters.delete(t);
              tick();
            }, 10);
            this._waiters.add(t);
          };
          tick();
        });
        const ok = this.posts.length >= n;
        return this.json(res, 200, ok ? { ok, posts: this.posts.slice() } : { ok, error: 'timeout', posts: this.posts.slice() });
      }
      case 'acks':
        if (!wantGet()) return undefined;
        return this.json(res, 200, { ok: true, acks: this.acks });
      case 'responses':
        if (!wantGet()) return undefined;
        return this.json(res, 200, { ok: true, responses: this.responses });
      case 'stats':
        if (!wantGet()) return undefined;
        return this.json(res, 200, { ok: true, ...this.stats() });
      default:
        return this.json(res, 404, { ok: false, error: 'unknown_control' });
    }
  }
}

async function startFakeSlack(opts = {}) {
  const fake = new FakeSlack(opts);
  await fake.listen();
  return fake;
}

// ---------------------------------------------------------------- standalone

function parseCli(argv) {
  const opts = {};
  const intFlags = {
    '--port': 'port',
    '--ack-timeout-ms': 'ackTimeoutMs',
    '--max-retries': 'maxRetries',
    '--server-ping-ms': 'serverPingMs',
    '--hello-delay-ms': 'helloDelayMs',
  };
  const strFlags = {
    '--app-token': 'appToken',
    '--bot-token': 'botToken',
    '--tls-key': 'tlsKeyFile',
    '--tls-cert': 'tlsCertFile',
  };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let val;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      val = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    if (arg === '--help' || arg === '-h') return { help: true };
    if (arg === '--echo') {
      opts.echo = true;
      continue;
    }
    if (intFlags[arg] || strFlags[arg]) {
      if (val === undefined) {
        i += 1;
        val = argv[i];
      }
      if (val === undefined) throw new Error(`${arg} needs a value`);
      if (intFlags[arg]) {
        const n = Number(val);
        if (!Number.isInteger(n) || n < 0) throw new Error(`${arg}: not a non-negative integer: ${val}`);
        opts[intFlags[arg]] = n;
      } else {
        opts[strFlags[arg]] = val;
      }
      continue;
    }
    throw new Error(`unknown argument: ${arg}`);
  }
  const { tlsKeyFile, tlsCertFile } = opts;
  delete opts.tlsKeyFile;
  delete opts.tlsCertFile;
  if (!tlsKeyFile !== !tlsCertFile) throw new Error('--tls-key and --tls-cert go together');
  if (tlsKeyFile) {
    const read = (flag, f) => {
      try {
        return fs.readFileSync(f);
      } catch (e) {
        throw new Error(`${flag}: cannot read ${f}: ${e.message}`);
      }
    };
    opts.tls = { key: read('--tls-key', tlsKeyFile), cert: read('--tls-cert', tlsCertFile) };
  }
  return { opts };
}

const USAGE = `usage: node fake_slack.js [--port N] [--ack-timeout-ms N] [--max-retries N]
       [--server-ping-ms N] [--hello-delay-ms N] [--app-token T] [--bot-token T] [--echo]
       [--tls-key FILE --tls-cert FILE]
Prints "fake-slack listening on http://127.0.0.1:PORT/api/" and runs until SIGTERM/SIGINT.
With --tls-key and --tls-cert (PEM files) it serves https:// and wss:// on that port instead.
Set FAKE_SLACK_DEBUG=1 for a log on stderr.`;

async function main() {
  let parsed;
  try {
    parsed = parseCli(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`fake-slack: ${e.message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (parsed.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const fake = await startFakeSlack(parsed.opts);
  process.stdout.write(`fake-slack listening on ${fake.apiUrl}\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    fake.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`fake-slack: ${e && e.stack ? e.stack : e}\n`);
    process.exit(1);
  });
}

module.exports = { startFakeSlack, FakeSlack, constants: { TEAM_ID, APP_ID, BOT_USER_ID, BOT_ID, MAX_SOCKETS } };
