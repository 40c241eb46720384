'use strict';
// core.js - what every fake chat platform in tests/ is built on: one HTTP (or HTTPS) port on
// 127.0.0.1 that serves the platform's REST API, its WebSocket, and control endpoints under
// /_fake/; a log of everything the bot sent; waiting with a deadline; going down and coming back
// on the same port. A platform's fake (slack/fake_slack.js, mattermost/fake_mattermost.js)
// extends FakeServer and supplies its protocol:
//
//   onRequest(req, res, url)        every request outside /_fake/ (its API)
//   onControl(route, req, res, url) /_fake/ROUTE requests the core does not answer itself
//   acceptSocket(req, url)          whether an upgrade request may become a WebSocket: true, or
//                                   {status, text, body} to refuse it (the default refuses all)
//   onSocket(ws, req, url)          a WebSocket that was accepted
//   dropSockets()                   close every socket abruptly (down(), close())
//
// The core answers GET /_fake/sent with the log itself; every fake also has POST /_fake/drop
// (drop every socket) among its own control endpoints.

const http = require('node:http');
const https = require('node:https');
const { EventEmitter } = require('node:events');
const { performance } = require('node:perf_hooks');
const { WebSocketServer } = require('ws');

class FakeServer extends EventEmitter {
  // name: for messages ("fake-slack"); port: 0 for a free one; tls: {key, cert} (PEM) to serve
  // https:// and wss:// instead; maxBody: the largest request body readBody() keeps;
  // ws: options for the WebSocketServer (autoPong, maxPayload...).
  constructor({ name = 'fake', port = 0, tls = null, maxBody = 1 << 20, ws = {} } = {}) {
    super();
    this.name = name;
    this.wantPort = port;
    this.maxBody = maxBody;
    this.port = 0;
    this.baseUrl = '';
    /** everything the bot sent, oldest first: {at, via: 'http' | 'ws', method, path, body} */
    this.sent = [];
    if (tls && (!tls.key || !tls.cert)) throw new Error(`${name}: the tls option needs both key and cert`);
    this.tls = tls;
    this.scheme = tls ? 'https' : 'http';
    this.wsScheme = tls ? 'wss' : 'ws';
    /** TLS handshakes that failed (the client refused our certificate, or spoke plain HTTP) */
    this.tlsErrors = [];
    this.wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false, ...ws });
    this.wss.on('error', () => {});
    this.closed = false;
  }

  // ---------------------------------------------------------------- what subclasses override

  onRequest(req, res) {
    req.resume();
    this.json(res, 404, { error: 'not_found' });
  }

  onControl(route, req, res) {
    req.resume();
    this.json(res, 404, { error: 'no such control endpoint' });
  }

  acceptSocket() {
    return { status: 404, text: 'Not Found', body: '' };
  }

  onSocket(ws) {
    ws.terminate();
  }

  dropSockets() {}

  // ---------------------------------------------------------------- helpers for subclasses

  // Notes something the bot sent, in the log that GET /_fake/sent shows.
  logSent(entry) {
    this.sent.push({ at: performance.now(), ...entry });
  }

  // Answers with JSON (and the headers given).
  json(res, status, obj, headers = {}) {
    if (res.headersSent || res.destroyed) return;
    const body = JSON.stringify(obj);
    try {
      res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), ...headers });
      res.end(body);
    } catch (_) {
      /* the client went away */
    }
  }

  // Reads a request's body: {body: Buffer, tooLarge, aborted}; over maxBody, nothing is kept.
  readBody(req) {
    return new Promise((resolve) => {
      const chunks = [];
      let size = 0;
      let tooLarge = false;
      req.on('data', (c) => {
        if (tooLarge) return;
        size += c.length;
        if (size > this.maxBody) {
          tooLarge = true;
          chunks.length = 0;
        } else {
          chunks.push(c);
        }
      });
      req.on('end', () => resolve({ body: Buffer.concat(chunks), tooLarge }));
      req.on('error', () => resolve({ body: Buffer.alloc(0), tooLarge, aborted: true }));
    });
  }

  // Writes an unmasked text frame's header and half of its payload straight to the TCP socket,
  // then resets the connection: what a link dying in the middle of a frame looks like.
  cutFrame(socket, text) {
    const payload = Buffer.from(text);
    const n = payload.length;
    let header;
    if (n < 126) {
      header = Buffer.from([0x81, n]);
    } else if (n < 65536) {
      header = Buffer.from([0x81, 126, n >> 8, n & 0xff]);
    } else {
      header = Buffer.alloc(10);
      header[0] = 0x81;
      header[1] = 127;
      header.writeBigUInt64BE(BigInt(n), 2);
    }
    socket.write(Buffer.concat([header, payload.subarray(0, n >> 1)]), () => {
      setTimeout(() => socket.resetAndDestroy(), 50);
    });
  }

  /** Polls until predicate(this) is truthy; resolves with its value, rejects after timeoutMs. */
  waitFor(predicate, timeoutMs = 5000, intervalMs = 10) {
    const deadline = performance.now() + timeoutMs;
    return new Promise((resolve, reject) => {
      const tick = () => {
        let v;
        try {
          v = predicate(this);
        } catch (e) {
          reject(e);
          return;
        }
        if (v) resolve(v);
        else if (performance.now() >= deadline) reject(new Error(`${this.name} waitFor timed out after ${timeoutMs} ms`));
        else setTimeout(tick, intervalMs);
      };
      tick();
    });
  }

  // ---------------------------------------------------------------- life

  async listen() {
    const onRequest = (req, res) => this._route(req, res);
    this.server = this.tls ? https.createServer({ key: this.tls.key, cert: this.tls.cert }, onRequest) : http.createServer(onRequest);
    if (this.tls) {
      this.server.on('tlsClientError', (err, socket) => {
        const entry = { message: String((err && err.message) || err), code: err && err.code, at: performance.now() };
        this.tlsErrors.push(entry);
        this.emit('tls_error', entry);
        socket.destroy();
      });
    }
    this.server.on('clientError', (err, socket) => socket.destroy());
    this.server.on('upgrade', (req, socket, head) => this._upgrade(req, socket, head));
    // On the port it had (up()), a socket of someone else's may hold it for a moment: a client
    // whose free port happened to be this one. The port is tried again for 5 s.
    for (let attempt = 0; ; attempt++) {
      try {
        await new Promise((resolve, reject) => {
          this.server.once('error', reject);
          this.server.listen(this.wantPort, '127.0.0.1', () => {
            this.server.removeListener('error', reject);
            this.server.on('error', () => {});
            resolve();
          });
        });
        break;
      } catch (err) {
        if (!this.wantPort || err.code !== 'EADDRINUSE' || attempt === 50) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    this.port = this.server.address().port;
    this.baseUrl = `${this.scheme}://127.0.0.1:${this.port}`;
    return this;
  }

  // Stops listening and drops every connection, as a server going down does; what the fake
  // holds stays, and up() listens again on the same port.
  async down() {
    this.dropSockets();
    await this._stop();
  }

  async up() {
    this.wantPort = this.port;
    return this.listen();
  }

  async close() {
    if (this.closed) return;
    this.closed = true;
    this.dropSockets();
    try {
      this.wss.close();
    } catch (_) {
      /* ignore */
    }
    await this._stop();
  }

  async _stop() {
    if (!this.server || !this.server.listening) return;
    await new Promise((resolve) => {
      this.server.close(() => resolve());
      if (typeof this.server.closeAllConnections === 'function') this.server.closeAllConnections();
    });
  }

  // ---------------------------------------------------------------- routing

  async _route(req, res) {
    req.on('error', () => {});
    res.on('error', () => {});
    let url;
    try {
      url = new URL(req.url, 'http://127.0.0.1');
    } catch (_) {
      req.resume();
      return this.json(res, 400, { error: 'invalid_url' });
    }
    try {
      if (!url.pathname.startsWith('/_fake/')) return await this.onRequest(req, res, url);
      const route = url.pathname.slice('/_fake/'.length);
      if (route === 'sent' && req.method === 'GET') {
        req.resume();
        return this.json(res, 200, this.sent);
      }
      return await this.onControl(route, req, res, url);
    } catch (e) {
      this.json(res, 500, { error: 'fake_internal_error', detail: String(e && e.message) });
    }
    return undefined;
  }

  _upgrade(req, socket, head) {
    socket.on('error', () => {});
    let url;
    try {
      url = new URL(req.url, 'http://127.0.0.1');
    } catch (_) {
      socket.destroy();
      return;
    }
    const verdict = this.acceptSocket(req, url);
    if (verdict !== true) {
      const { status = 404, text = 'Not Found', body = '', type = 'application/json' } = verdict || {};
      try {
        socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: ${type}\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      } catch (_) {
        /* ignore */
      }
      setTimeout(() => socket.destroy(), 100).unref();
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws, req, url));
  }
}

module.exports = { FakeServer };
