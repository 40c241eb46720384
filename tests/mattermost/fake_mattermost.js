'use strict';
// fake_mattermost.js - a fake Mattermost server (API v4) for tests: the REST calls planbot makes
// and the WebSocket at /api/v4/websocket, on one 127.0.0.1 port. Mattermost's own client
// (@mattermost/client: Client4 and WebSocketClient) runs against it in conformance.test.js, so it
// cannot drift from the real protocol. See ../../../shared/docs/protocols.md §2.
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
// rateLimit(n) answers the next n POST /posts with 429; holdPosts (true: POST /posts is never
// answered); refuseToken (true: every token is refused). Everything planbot sent: posts (created),
// requests (method, path, headers), frames (WebSocket text from clients); onPost(post), when set,
// is called for each post created.
// Standalone: node tests/mattermost/fake_mattermost.js [--port N] [--token T]

const http = require('node:http');
const crypto = require('node:crypto');
const { WebSocketServer } = require('ws');

const BOT_ID = 'botuserid00000000000000000';
const BOT_NAME = 'planbot';
const MAX_POST_CHARS = 16383;

const newId = () => crypto.randomBytes(13).toString('hex'); // 26 characters, as Mattermost's

class FakeMattermost {
  constructor({ token = 'mm-test-token', port = 0 } = {}) {
    this.token = token;
    this.wantPort = port;
    this.posts = []; // created by clients (planbot's replies), in order
    this.store = new Map(); // channel id -> posts, oldest first (people's and planbot's)
    this.channelTypes = new Map(); // channel id -> O, P, D, G
    this.requests = [];
    this.frames = [];
    this.sockets = new Set();
    this.limited = 0;
    this.holdPosts = false;
    this.held = [];
    this.refuseToken = false;
    this.skip = 0;
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
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'X-Version-Id': '9.11.0.fake', ...extra });
    res.end(text);
  }

  appError(res, status, id, message) {
    this.json(res, status, { id, message, detailed_error: '', request_id: newId(), status_code: status });
  }

  store_(post) {
    if (!this.store.has(post.channel_id)) this.store.set(post.channel_id, []);
    this.store.get(post.channel_id).push(post);
  }

  async handle(req, res) {
    const url = new URL(req.url, 'http://127.0.0.1');
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks).toString('utf8');
    if (url.pathname.startsWith('/_fake/')) return this.control(req.method, url.pathname, body, res);
    this.requests.push({ method: req.method, path: url.pathname, query: url.search, headers: req.headers, body });
    if (!this.authorized(req.headers.authorization)) {
      return this.appError(res, 401, 'api.context.session_expired.app_error', 'Invalid or expired session, please login again.');
    }
    if (req.method === 'GET' && url.pathname === '/api/v4/users/me') {
      return this.json(res, 200, { id: BOT_ID, username: BOT_NAME, is_bot: true, roles: 'system_user' });
    }
    if (req.method === 'POST' && url.pathname === '/api/v4/posts') {
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
      return this.json(res, 201, post);
    }
    if (req.method === 'GET' && url.pathname === '/api/v4/users/me/channels') {
      const list = [...this.channelTypes.entries()].map(([id, type]) => ({ id, type, name: id, display_name: id, team_id: type === 'D' || type === 'G' ? '' : 'team1', delete_at: 0 }));
      return this.json(res, 200, list);
    }
    const m = /^\/api\/v4\/channels\/([^/]+)\/posts$/.exec(url.pathname);
    if (req.method === 'GET' && m) {
      const since = Number(url.searchParams.get('since') || 0);
      const list = (this.store.get(m[1]) || []).filter((p) => p.create_at >= since);
      const posts = {};
      for (const p of list) posts[p.id] = p;
      return this.json(res, 200, { order: list.map((p) => p.id).reverse(), posts, next_post_id: '', prev_post_id: '' });
    }
    return this.appError(res, 404, 'api.context.404.app_error', 'Sorry, we could not find the page.');
  }

  // The control endpoints, for trying planbot by hand (no token):
  //   POST /_fake/say {"text", "user"?, "channel"?, "type"?, "root_id"?} posts as a person;
  //   GET /_fake/posts lists what planbot posted; POST /_fake/drop drops every socket.
  control(method, path, body, res) {
    if (method === 'POST' && path === '/_fake/say') {
      let o;
      try {
        o = JSON.parse(body || '{}');
      } catch {
        return this.json(res, 400, { error: 'the body must be JSON' });
      }
      if (typeof o.text !== 'string') return this.json(res, 400, { error: 'text must be a string' });
      const post = this.say(o.text, { user: o.user || 'u2', channel: o.channel || 'town', type: o.type || 'O', rootId: o.root_id || '' });
      return this.json(res, 200, post);
    }
    if (method === 'GET' && path === '/_fake/posts') return this.json(res, 200, this.posts);
    if (method === 'POST' && path === '/_fake/drop') {
      this.dropSockets();
      return this.json(res, 200, { dropped: true });
    }
    return this.json(res, 404, { error: 'no such control endpoint' });
  }

  // Sends an event to one socket, with the next seq (one more when skipSeq() asked for a gap).
  send(ws, event, data, broadcast = {}) {
    if (this.skip > 0) {
      this.skip--;
      ws.seq++;
    }
    const frame = { event, data, broadcast: { omit_users: null, user_id: '', channel_id: '', team_id: '', ...broadcast }, seq: ws.seq++ };
    ws.send(JSON.stringify(frame));
  }

  broadcast(post) {
    const type = this.channelTypes.get(post.channel_id) || 'O';
    const mentions = post.message.includes(`@${BOT_NAME}`) || type === 'D' ? [BOT_ID] : null;
    for (const ws of this.sockets) {
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

  dropSockets() {
    for (const ws of this.sockets) ws.terminate();
  }

  skipSeq() {
    this.skip++;
  }

  rateLimit(n) {
    this.limited += n;
  }

  // Answers the posts held while holdPosts was true with 500, so nothing is created.
  releaseHeld() {
    for (const res of this.held.splice(0)) this.appError(res, 500, 'fake.held', 'held');
  }

  connected() {
    return [...this.sockets].filter((ws) => ws.authed).length;
  }

  onSocket(ws, req) {
    ws.seq = 0;
    ws.authed = false;
    this.sockets.add(ws);
    ws.on('close', () => this.sockets.delete(ws));
    const hello = () => {
      ws.authed = true;
      this.send(ws, 'hello', { server_version: '9.11.0.fake', connection_id: newId(), server_hostname: 'fake' }, { user_id: BOT_ID });
    };
    if (this.authorized(req.headers.authorization)) hello();
    const late = setTimeout(() => { if (!ws.authed) ws.close(1008, 'no authentication'); }, 5000);
    ws.on('close', () => clearTimeout(late));
    ws.on('message', (data) => {
      const text = data.toString('utf8');
      this.frames.push(text);
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
      } else if (m.action === 'ping') {
        ws.send(JSON.stringify({ status: 'OK', seq_reply: m.seq, data: { text: 'pong', version: '9.11.0.fake', server_time: Date.now(), node_id: '' } }));
      }
    });
  }

  // Stops listening and drops every connection, as a server going down does; what it stores
  // stays. up() listens again on the same port.
  async down() {
    this.releaseHeld();
    for (const ws of this.sockets) ws.terminate();
    this.server.closeAllConnections?.();
    await new Promise((resolve) => this.server.close(resolve));
  }

  async up() {
    this.wantPort = this.port;
    return this.start();
  }

  async start() {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((e) => { res.writeHead(500); res.end(String(e)); });
    });
    this.wss = new WebSocketServer({ noServer: true });
    this.server.on('upgrade', (req, socket, head) => {
      const path = new URL(req.url, 'http://127.0.0.1').pathname.replace(/\/$/, '');
      if (path !== '/api/v4/websocket') {
        socket.destroy();
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws, req));
    });
    await new Promise((resolve) => this.server.listen(this.wantPort, '127.0.0.1', resolve));
    this.port = this.server.address().port;
    this.url = `http://127.0.0.1:${this.port}`;
    return this;
  }

  async waitFor(pred, ms = 10000) {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error('timed out waiting');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async close() {
    this.releaseHeld();
    for (const ws of this.sockets) ws.terminate();
    await new Promise((resolve) => this.server.close(resolve));
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
