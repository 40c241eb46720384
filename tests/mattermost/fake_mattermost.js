'use strict';
// fake_mattermost.js - a fake Mattermost server (API v4) for tests: the REST calls planbot makes
// and the WebSocket at /api/v4/websocket, on one 127.0.0.1 port, built on the fakes' shared core
// (../fake/core.js). Mattermost's own client (@mattermost/client: Client4 and WebSocketClient)
// runs against it in conformance.test.js, so it cannot drift from the real protocol. See
// ../../../shared/docs/protocols.md §2.
//
//   const { startFakeMattermost } = require('./fake_mattermost');
//   const fake = await startFakeMattermost({ token: 'tok' });
//   ... point planbot at fake.url (MATTERMOST_URL) ...
//   fake.say('@planbot How big can the army be?', { user: 'u2', channel: 'town' });
//   await fake.waitFor(() => fake.posts.length === 1);
//   await fake.close();
//
// Control (tests call these): say() posts as a person and broadcasts the posted event;
// dropSockets() closes every socket; down() and up() stop the server and start it again on
// the same port, keeping its posts; skipSeq() makes the next event skip a sequence number;
// rateLimit(n) answers the next n POST /posts with 429; fail(method, path, mode, n) answers the
// next n such calls with 500, broken JSON ('garbage': a POST /posts is made all the same) or
// never ('hang'); stall() stops answering pings and delivering events (a half-open connection)
// until unstall(); cutNext(n) cuts the next n events in the middle
// of their frame and resets the connection; sendRaw(text) sends any text frame to every socket;
// holdPosts (true: POST /posts is never answered); refuseToken (true: every token is refused).
// Everything planbot sent: posts (created), requests (method, path, headers), frames (WebSocket
// text from clients), and the core's log (sent); onPost(post), when set, is called for each post.
// Standalone: node tests/mattermost/fake_mattermost.js [--port N] [--token T]

const crypto = require('node:crypto');
const { FakeServer } = require('../fake/core');

const BOT_ID = 'botuserid00000000000000000';
const BOT_NAME = 'planbot';
const MAX_POST_CHARS = 16383;
const MAX_SINCE = 1000; // posts a since= query answers at most, the newest
const VERSION = '9.11.0.fake';

const newId = () => crypto.randomBytes(13).toString('hex'); // 26 characters, as Mattermost's

class FakeMattermost extends FakeServer {
  constructor({ token = 'mm-test-token', port = 0 } = {}) {
    super({ name: 'fake-mattermost', port, ws: { autoPong: false } }); // pings: see stall()
    this.token = token;
    this.posts = []; // created by clients (planbot's replies), in order
    this.store = new Map(); // channel id -> posts, oldest first (people's and planbot's)
    this.channelTypes = new Map(); // channel id -> O, P, D, G
    this.requests = [];
    this.frames = [];
    this.sockets = new Set();
    this.limited = 0;
    this.faults = []; // {method, path, mode, n}
    this.holdPosts = false;
    this.held = [];
    this.refuseToken = false;
    this.skip = 0;
    this.cuts = 0;
    this.stalled = false;
    this.lastCreate = 0;
  }

  // A create_at that always grows, as a server's clock does between posts.
  now() {
    this.lastCreate = Math.max(Date.now(), this.lastCreate + 1);
    return this.lastCreate;
  }

  authorized(header) {
    const m = /^bearer\s+(.+)$/i.exec(header || '');
    return !this.refuseToken && m && m[1] === this.token;
  }

  json(res, status, body, extra = {}) {
    // exactly application/json, as Mattermost sends it: Client4 reads no other type as JSON
    super.json(res, status, body, { 'Content-Type': 'application/json', 'X-Version-Id': VERSION, ...extra });
  }

  appError(res, status, id, message) {
    this.json(res, status, { id, message, detailed_error: '', request_id: newId(), status_code: status });
  }

  store_(post) {
    if (!this.store.has(post.channel_id)) this.store.set(post.channel_id, []);
    this.store.get(post.channel_id).push(post);
  }

  // The fault asked for this call, if any (counted down).
  fault(method, path) {
    const f = this.faults.find((x) => x.n > 0 && x.method === method && x.path === path);
    if (!f) return null;
    f.n--;
    return f.mode;
  }

  async onRequest(req, res, url) {
    const { body: raw, tooLarge } = await this.readBody(req);
    if (tooLarge) return this.appError(res, 413, 'api.context.request_body_too_large.app_error', 'too large');
    const body = raw.toString('utf8');
    this.requests.push({ method: req.method, path: url.pathname, query: url.search, headers: req.headers, body });
    this.logSent({ via: 'http', method: req.method, path: url.pathname + url.search, body });
    if (!this.authorized(req.headers.authorization)) {
      return this.appError(res, 401, 'api.context.session_expired.app_error', 'Invalid or expired session, please login again.');
    }
    const mode = this.fault(req.method, url.pathname);
    if (mode === 'hang') return undefined; // answered never: the socket stays open until close()
    if (mode === 500) return this.appError(res, 500, 'fake.fault', 'injected fault');
    if (mode === 'garbage' && !(req.method === 'POST' && url.pathname === '/api/v4/posts')) return this.garbage(res);
    if (req.method === 'GET' && url.pathname === '/api/v4/users/me') {
      return this.json(res, 200, { id: BOT_ID, username: BOT_NAME, is_bot: true, roles: 'system_user' });
    }
    if (req.method === 'POST' && url.pathname === '/api/v4/posts') return this.createPost(res, body, mode === 'garbage');
    if (req.method === 'GET' && url.pathname === '/api/v4/users/me/channels') {
      const list = [...this.channelTypes.entries()].map(([id, type]) => ({ id, type, name: id, display_name: id, team_id: type === 'D' || type === 'G' ? '' : 'team1', delete_at: 0 }));
      return this.json(res, 200, list);
    }
    const m = /^\/api\/v4\/channels\/([^/]+)\/posts$/.exec(url.pathname);
    if (req.method === 'GET' && m) {
      // as Mattermost's store: since= gives the newest 1,000 changed since then; before= and
      // per_page= the page of posts right before that one, newest first either way
      const all = this.store.get(m[1]) || [];
      let list;
      if (url.searchParams.has('before')) {
        const at = all.findIndex((p) => p.id === url.searchParams.get('before'));
        const per = Math.min(Number(url.searchParams.get('per_page') || 60), 200);
        list = at < 0 ? [] : all.slice(Math.max(0, at - per), at);
      } else {
        const since = Number(url.searchParams.get('since') || 0);
        list = all.filter((p) => p.create_at >= since).slice(-MAX_SINCE);
      }
      const posts = {};
      for (const p of list) posts[p.id] = p;
      return this.json(res, 200, { order: list.map((p) => p.id).reverse(), posts, next_post_id: '', prev_post_id: '' });
    }
    return this.appError(res, 404, 'api.context.404.app_error', 'Sorry, we could not find the page.');
  }

  // A 200 whose JSON is cut short, as a proxy dying mid-answer sends.
  garbage(res) {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"id": "not quite json');
  }

  // Creates a post; broken: it is created, but the answer is garbage().
  createPost(res, body, broken = false) {
    if (this.holdPosts) {
      this.held.push(res);
      return undefined;
    }
    if (this.limited > 0) {
      this.limited--;
      res.writeHead(429, { 'Content-Type': 'text/plain', 'Retry-After': '1', 'X-Ratelimit-Limit': '10', 'X-Ratelimit-Remaining': '0', 'X-Ratelimit-Reset': '1' });
      return res.end('limit exceeded\n');
    }
    let p;
    try {
      p = JSON.parse(body);
    } catch {
      return this.appError(res, 400, 'api.context.invalid_body_param.app_error', 'Invalid or missing post in request body.');
    }
    if (typeof p.channel_id !== 'string' || typeof p.message !== 'string' || !this.channelTypes.has(p.channel_id)) {
      return this.appError(res, p.channel_id && !this.channelTypes.has(p.channel_id) ? 403 : 400, 'api.post.create_post.channel.app_error', 'bad post');
    }
    if ([...p.message].length > MAX_POST_CHARS) {
      return this.appError(res, 400, 'model.post.is_valid.msg.app_error', 'Invalid message');
    }
    const post = { id: newId(), create_at: this.now(), update_at: 0, user_id: BOT_ID, channel_id: p.channel_id, root_id: p.root_id || '', message: p.message, type: '', props: p.props || {} };
    this.posts.push(post);
    this.store_(post);
    this.broadcast(post);
    if (this.onPost) this.onPost(post);
    if (broken) return this.garbage(res);
    return this.json(res, 201, post);
  }

  // The control endpoints, for trying planbot by hand (no token), besides the core's
  // GET /_fake/sent (everything planbot sent):
  //   POST /_fake/say {"text", "user"?, "channel"?, "type"?, "root_id"?} posts as a person;
  //   GET /_fake/posts lists what planbot posted; POST /_fake/drop drops every socket.
  async onControl(route, req, res) {
    const { body } = await this.readBody(req);
    if (req.method === 'POST' && route === 'say') {
      let o;
      try {
        o = JSON.parse(body.toString('utf8') || '{}');
      } catch {
        return this.json(res, 400, { error: 'the body must be JSON' });
      }
      if (typeof o.text !== 'string') return this.json(res, 400, { error: 'text must be a string' });
      const post = this.say(o.text, { user: o.user || 'u2', channel: o.channel || 'town', type: o.type || 'O', rootId: o.root_id || '' });
      return this.json(res, 200, post);
    }
    if (req.method === 'GET' && route === 'posts') return this.json(res, 200, this.posts);
    if (req.method === 'POST' && route === 'drop') {
      this.dropSockets();
      return this.json(res, 200, { dropped: true });
    }
    return this.json(res, 404, { error: 'no such control endpoint' });
  }

  // Sends an event to one socket, with the next seq (one more when skipSeq() asked for a gap).
  send(ws, event, data, broadcast = {}) {
    if (this.stalled && event !== 'hello') return; // a half-open link: nothing arrives
    if (this.skip > 0) {
      this.skip--;
      ws.seq++;
    }
    const frame = JSON.stringify({ event, data, broadcast: { omit_users: null, user_id: '', channel_id: '', team_id: '', ...broadcast }, seq: ws.seq++ });
    if (event !== 'hello' && this.cuts > 0) {
      this.cuts--;
      this.sockets.delete(ws);
      this.cutFrame(ws._socket, frame);
      return;
    }
    ws.send(frame);
  }

  broadcast(post) {
    const type = this.channelTypes.get(post.channel_id) || 'O';
    const mentions = post.message.includes(`@${BOT_NAME}`) || type === 'D' ? [BOT_ID] : null;
    for (const ws of [...this.sockets]) {
      if (!ws.authed) continue;
      const data = { channel_display_name: post.channel_id, channel_name: post.channel_id, channel_type: type, post: JSON.stringify(post), sender_name: `@${post.user_id}`, set_online: true, team_id: type === 'D' ? '' : 'team1' };
      if (mentions) data.mentions = JSON.stringify(mentions);
      this.send(ws, 'posted', data, { channel_id: post.channel_id });
    }
  }

  // A person posts text; broadcast to every socket. Returns the post.
  say(text, { user = 'u2', channel = 'town', type = 'O', rootId = '', postType = '', props = {} } = {}) {
    this.channelTypes.set(channel, type);
    const post = { id: newId(), create_at: this.now(), update_at: 0, user_id: user, channel_id: channel, root_id: rootId, message: text, type: postType, props };
    this.store_(post);
    this.broadcast(post);
    return post;
  }

  // Sends text as it is, as a frame, to every signed-in socket.
  sendRaw(data, { binary = false } = {}) {
    for (const ws of this.sockets) if (ws.authed) ws.send(data, { binary });
  }

  dropSockets() {
    for (const ws of this.sockets) ws.terminate();
  }

  skipSeq() {
    this.skip++;
  }

  rateLimit(n) {
    this.limited += n;
  }

  fail(method, path, mode, n = 1) {
    this.faults.push({ method, path, mode, n });
  }

  cutNext(n = 1) {
    this.cuts += n;
  }

  // A half-open connection: pings (WebSocket and Mattermost's own) go unanswered, and nothing is
  // sent, until unstall().
  stall() {
    this.stalled = true;
  }

  unstall() {
    this.stalled = false;
  }

  // Answers the posts held while holdPosts was true with 500, so nothing is created.
  releaseHeld() {
    for (const res of this.held.splice(0)) this.appError(res, 500, 'fake.held', 'held');
  }

  connected() {
    return [...this.sockets].filter((ws) => ws.authed).length;
  }

  acceptSocket(req, url) {
    return url.pathname.replace(/\/$/, '') === '/api/v4/websocket' || { status: 404, text: 'Not Found' };
  }

  onSocket(ws, req) {
    ws.seq = 0;
    ws.authed = false;
    this.sockets.add(ws);
    ws.on('close', () => this.sockets.delete(ws));
    ws.on('error', () => {});
    ws.on('ping', (data) => {
      if (!this.stalled) ws.pong(data);
    });
    const hello = () => {
      ws.authed = true;
      this.send(ws, 'hello', { server_version: VERSION, connection_id: newId(), server_hostname: 'fake' }, { user_id: BOT_ID });
    };
    if (this.authorized(req.headers.authorization)) hello();
    const late = setTimeout(() => { if (!ws.authed) ws.close(1008, 'no authentication'); }, 5000);
    ws.on('close', () => clearTimeout(late));
    ws.on('message', (data) => {
      const text = data.toString('utf8');
      this.frames.push(text);
      this.logSent({ via: 'ws', body: text });
      let m;
      try {
        m = JSON.parse(text);
      } catch {
        return;
      }
      if (m.action === 'authentication_challenge') {
        if (!this.authorized(`Bearer ${m.data && m.data.token}`)) {
          ws.send(JSON.stringify({ status: 'FAIL', seq_reply: m.seq, error: { id: 'api.web_socket_router.not_authenticated.app_error', message: 'not authenticated' } }));
          ws.close(1008, 'bad token');
          return;
        }
        if (!ws.authed) hello();
        ws.send(JSON.stringify({ status: 'OK', seq_reply: m.seq }));
      } else if (m.action === 'ping' && !this.stalled) {
        ws.send(JSON.stringify({ status: 'OK', seq_reply: m.seq, data: { text: 'pong', version: VERSION, server_time: Date.now(), node_id: '' } }));
      }
    });
  }

  async down() {
    this.releaseHeld();
    return super.down();
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

  async close() {
    this.releaseHeld();
    return super.close();
  }
}

async function startFakeMattermost(opts) {
  return new FakeMattermost(opts).start();
}

module.exports = { startFakeMattermost, FakeMattermost, BOT_ID, BOT_NAME };

if (require.main === module) {
  const args = process.argv.slice(2);
  const opt = (name, def) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : def;
  };
  startFakeMattermost({ port: Number(opt('--port', 0)), token: opt('--token', 'mm-test-token') }).then((f) => {
    console.log(f.url);
    console.error(`token: ${f.token}; try: curl -X POST ${f.url}/_fake/say -d '{"text":"@planbot How big can the army be?"}'`);
  });
}
