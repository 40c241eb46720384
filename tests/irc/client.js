// client.js - a small IRC client for the tests: the people who ask planbot questions, kick it, or
// flood it. It speaks plain RFC 1459 lines over TCP, with IRCv3 CAP and SASL PLAIN when asked, and
// keeps every line it received, parsed, so a test can wait for the one it expects.
'use strict';

const net = require('node:net');

// Splits a line into { tags, source, nick, command, params } (enough for tests).
function parse(line) {
  const m = { tags: {}, source: '', nick: '', command: '', params: [], line };
  let rest = line;
  if (rest.startsWith('@')) {
    const sp = rest.indexOf(' ');
    for (const t of rest.slice(1, sp).split(';')) {
      const eq = t.indexOf('=');
      m.tags[eq < 0 ? t : t.slice(0, eq)] = eq < 0 ? '' : t.slice(eq + 1);
    }
    rest = rest.slice(sp + 1);
  }
  if (rest.startsWith(':')) {
    const sp = rest.indexOf(' ');
    m.source = rest.slice(1, sp);
    m.nick = m.source.split('!')[0];
    rest = rest.slice(sp + 1);
  }
  const trail = rest.indexOf(' :');
  const head = trail >= 0 ? rest.slice(0, trail) : rest;
  const words = head.split(' ').filter(Boolean);
  m.command = (words.shift() || '').toUpperCase();
  m.params = words;
  if (trail >= 0) m.params.push(rest.slice(trail + 2));
  return m;
}

class IrcClient {
  constructor() {
    this.lines = []; // every line received, parsed
    this.waiters = [];
    this.buf = Buffer.alloc(0);
  }

  // Connects and registers; resolves at the welcome (001). opts: port, nick, caps (to request),
  // sasl: { account, password }.
  connect({ port, nick, caps = [], sasl = null }, ms = 10000) {
    this.nick = nick;
    this.sock = net.connect(port, '127.0.0.1');
    this.sock.on('data', (d) => this.received(d));
    this.sock.on('error', () => {});
    this.sock.on('close', () => { this.closed = true; this.wake(); });
    const want = [...caps, ...(sasl ? ['sasl'] : [])];
    if (want.length) this.send('CAP LS 302');
    this.send(`NICK ${nick}`);
    this.send(`USER ${nick} 0 * :${nick}`);
    if (want.length) {
      this.waitFor((m) => m.command === 'CAP' && m.params[1] === 'LS', ms).then(() => this.send(`CAP REQ :${want.join(' ')}`), () => {});
      this.waitFor((m) => m.command === 'CAP' && m.params[1] === 'ACK', ms).then(() => {
        if (!sasl) return this.send('CAP END');
        this.send('AUTHENTICATE PLAIN');
        return this.waitFor((m) => m.command === 'AUTHENTICATE', ms).then(() => {
          const raw = Buffer.from(`${sasl.account}\0${sasl.account}\0${sasl.password}`).toString('base64');
          this.send(`AUTHENTICATE ${raw}`);
          return this.waitFor((m) => m.command === '903', ms).then(() => this.send('CAP END'));
        });
      }, () => {});
    }
    return this.waitFor((m) => m.command === '001', ms);
  }

  received(d) {
    this.buf = Buffer.concat([this.buf, d]);
    let nl;
    while ((nl = this.buf.indexOf(10)) >= 0) {
      const raw = this.buf.subarray(0, nl);
      this.buf = this.buf.subarray(nl + 1);
      const text = raw.toString('utf8').replace(/\r$/, '');
      if (!text) continue;
      const m = parse(text);
      m.bytes = raw.length + 1; // as relayed, CR LF included
      m.raw = raw;
      if (m.command === 'PING') this.send(`PONG :${m.params[0] || ''}`);
      this.lines.push(m);
    }
    this.wake();
  }

  wake() {
    for (const w of this.waiters.slice()) w();
  }

  send(line) {
    if (!this.closed) this.sock.write(`${line}\r\n`);
  }

  sendRaw(bytes) {
    if (!this.closed) this.sock.write(bytes);
  }

  // Resolves with the first line received from index `from` on that matches pred.
  waitFor(pred, ms = 10000, from = 0) {
    return new Promise((resolve, reject) => {
      let at = from;
      const check = () => {
        for (; at < this.lines.length; at++) {
          if (pred(this.lines[at])) {
            done();
            resolve(this.lines[at]);
            return;
          }
        }
        if (this.closed) { done(); reject(new Error('the connection closed')); }
      };
      const timer = setTimeout(() => { done(); reject(new Error(`no matching line within ${ms} ms; got:\n${this.lines.slice(-20).map((m) => m.line).join('\n')}`)); }, ms);
      const done = () => { clearTimeout(timer); this.waiters = this.waiters.filter((w) => w !== check); };
      this.waiters.push(check);
      check();
    });
  }

  // The PRIVMSGs from nick received so far (to a channel or to this client).
  messagesFrom(nick) {
    return this.lines.filter((m) => m.command === 'PRIVMSG' && m.nick.toLowerCase() === nick.toLowerCase());
  }

  close() {
    if (this.sock && !this.closed) {
      this.send('QUIT :done');
      this.sock.end();
      this.sock.destroy();
    }
    this.closed = true;
  }
}

module.exports = { IrcClient, parse };
