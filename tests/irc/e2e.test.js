// e2e.test.js - planbot on a real IRC network (inspircd with atheme services, started by
// server.js on 127.0.0.1), end to end over TCP, TLS and WebSocket: the real binary asked by test
// clients. Run: PLANBOT=build/planbot node --test tests/irc/e2e.test.js
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { startIrc, sleep } = require('./server');
const { IrcClient } = require('./client');
const { startPlanbot } = require('../slack/planbot');

const CHANNEL = '#plan';
const BOT_PASSWORD = 'bot-account-secret';
const MOD_PASSWORD = 'mod-account-secret';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'planbot-irc-e2e-'));
// Under valgrind (tests/valgrind.sh sets PLANBOT_WRAPPER), beside the other tests on two cores,
// planbot answers many times more slowly: every wait for it to act is this many times longer
// (not the silence that ends an answer's lines, which leave together once it is computed).
const SLOW = process.env.PLANBOT_WRAPPER ? 6 : 1;
let irc;
const clients = [];

before(async () => {
  irc = await startIrc();
  await irc.register('mod', MOD_PASSWORD);
  await irc.register('planbotacct', BOT_PASSWORD);
});
after(async () => {
  for (const c of clients) c.close();
  if (irc) await irc.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

// Starts planbot on the irc platform; resolves once it has joined CHANNEL.
async function startBot({ url = `irc://127.0.0.1:${irc.port}`, irc: settings = {}, config = {}, env = {}, dir, wait = true } = {}) {
  const bot = await startPlanbot({ apiUrl: 'http://127.0.0.1:9/' }, {
    tmp,
    appToken: 'unused-slack-app-token',
    botToken: BOT_PASSWORD, // checked never to reach the log
    config: {
      platform: 'irc',
      moderators: { irc: ['mod'] },
      irc: { channels: [CHANNEL], rejoin_secs: 1, line_ms: 100, burst: 10, ...settings },
      ...config,
    },
    env: { IRC_URL: url, ...env },
    waitConnected: false,
    dir,
  });
  if (wait) await bot.waitLog(new RegExp(`irc: joined ${CHANNEL}`), 20000 * SLOW);
  return bot;
}

// A person on the network, in CHANNEL.
async function person(nick, opts = {}) {
  const c = new IrcClient();
  clients.push(c);
  await c.connect({ port: irc.port, nick, ...opts });
  c.send(`JOIN ${CHANNEL}`);
  await c.waitFor((m) => m.command === 'JOIN' && m.nick === nick);
  return c;
}

// Says text to target and resolves with planbot's lines of the answer (they stop coming for
// quiet ms).
async function ask(c, target, text, quiet = 600) {
  const from = c.lines.length;
  c.send(`PRIVMSG ${target} :${text}`);
  await c.waitFor((m) => m.command === 'PRIVMSG' && m.nick === 'planbot', 10000 * SLOW, from);
  let n = -1;
  for (;;) {
    const now = c.lines.slice(from).filter((m) => m.command === 'PRIVMSG' && m.nick === 'planbot');
    if (now.length === n) return now;
    n = now.length;
    await sleep(quiet);
  }
}

test('a question in a channel is answered there to its asker, and a private message in private', async () => {
  const bot = await startBot();
  const alice = await person('alice');
  try {
    const lines = await ask(alice, CHANNEL, "planbot: How big can Ukraine's army be?");
    assert.equal(lines[0].params[0], CHANNEL);
    for (const l of lines) assert.match(l.params[1], /^alice: /);
    assert.match(lines.map((l) => l.params[1]).join('\n'), /600,000[\s\S]*Source: CNN/);
    const prefixed = await ask(alice, CHANNEL, '!ask would Ukraine have to leave Donetsk?');
    assert.match(prefixed[0].params[1], /^alice: .*Donetsk/);
    const dm = await ask(alice, 'planbot', 'What did Rubio say?');
    assert.equal(dm[0].params[0], 'alice');
    assert.doesNotMatch(dm[0].params[1], /^alice: /);
  } finally {
    alice.close();
    await bot.stop();
  }
});

test('with irc.bold_citations, the citation line of an answer comes in bold, and nothing else', async () => {
  const bot = await startBot({ irc: { bold_citations: true } });
  const dora = await person('dora');
  try {
    const lines = (await ask(dora, CHANNEL, "planbot: How big can Ukraine's army be?")).map((l) => l.params[1]);
    const cite = lines.filter((l) => l.includes('Source: CNN'));
    assert.equal(cite.length, 1, lines.join('\n'));
    assert.match(cite[0], /^dora: \x02Source: CNN.*\x02$/);
    for (const l of lines) if (l !== cite[0]) assert.doesNotMatch(l, /[\x02\x03\x0f\x1f\x1d]/);
  } finally {
    dora.close();
    await bot.stop();
  }
});

test('only what is addressed to planbot is answered; hostile input changes nothing', async () => {
  const bot = await startBot();
  const eve = await person('eve');
  try {
    const from = eve.lines.length;
    eve.send(`PRIVMSG ${CHANNEL} :just chatting about the army`);
    eve.send(`NOTICE ${CHANNEL} :planbot: a notice is never answered`);
    eve.send('NOTICE planbot :army size?');
    eve.send('PRIVMSG planbot :\x01VERSION\x01');
    eve.send(`PRIVMSG ${CHANNEL} :\x01ACTION planbot: waves\x01`);
    eve.sendRaw(Buffer.concat([Buffer.from(`PRIVMSG ${CHANNEL} :planbot: `), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(' army?\r\n')]));
    eve.send(`PRIVMSG ${CHANNEL} :planbot: ${'x'.repeat(2000)}`); // the server cuts it at 512 bytes
    // planbot reads in order: once the answer to this last question is in, so is everything
    // it said to the lines before (however slowly it runs)
    eve.send(`PRIVMSG ${CHANNEL} :planbot: What did Rubio say?`);
    await eve.waitFor((m) => m.nick === 'planbot' && /Rubio/.test(m.params[1] || ''), 10000 * SLOW, from);
    await sleep(600 * SLOW); // the rest of that answer's lines
    const answered = eve.lines.slice(from).filter((m) => m.nick === 'planbot');
    // only the three questions (the invalid UTF-8 one, the long one and Rubio) got answers, no
    // notice, no CTCP reply
    assert.ok(answered.every((m) => m.command === 'PRIVMSG' && m.params[0] === CHANNEL), answered.map((m) => m.line).join('\n'));
    assert.ok(answered.every((m) => /^eve: /.test(m.params[1])));
    // one answer each to the invalid UTF-8 question and to Rubio (a citation each), one "I don't
    // know" to the 2,000 x's cut at 512 bytes, and nothing for the rest
    const said = answered.map((m) => m.line).join('\n');
    assert.equal(answered.filter((m) => /^eve: Source: CNN/.test(m.params[1])).length, 2, said);
    assert.equal(answered.filter((m) => /^eve: I don't know/.test(m.params[1])).length, 1, said);
    const colour = await ask(eve, CHANNEL, "\x02planbot\x02: \x034,12How big\x0f can Ukraine's \x1farmy\x1f be?");
    assert.match(colour.map((l) => l.params[1]).join('\n'), /600,000/);
    for (const l of colour) assert.doesNotMatch(l.params[1], /[\x02\x03\x0f\x1f\x1d]/, 'no formatting is sent');
    assert.ok(!bot.exited);
  } finally {
    eve.close();
    await bot.stop();
  }
});

test('a moderator by services account changes the knowledge base; the same nick without the account is refused', async () => {
  const bot = await startBot();
  try {
    // "mod" is logged in to the account through SASL; the server tags its messages account=mod
    const mod = await person('modnick', { sasl: { account: 'mod', password: MOD_PASSWORD } });
    const made = await ask(mod, 'planbot', 'kb teach "how many soldiers may Kyiv keep" army-cap');
    assert.doesNotMatch(made.map((l) => l.params[1]).join('\n'), /moderator/i);
    mod.close();
    await sleep(300);
    // someone else takes the nick "mod" (and the old one): no account, no rights
    const impostor = await person('mod');
    const refused = await ask(impostor, 'planbot', 'kb remove army-cap');
    assert.match(refused.map((l) => l.params[1]).join('\n'), /only moderators/i);
    const still = await ask(impostor, CHANNEL, 'planbot: how many soldiers may Kyiv keep');
    assert.match(still.map((l) => l.params[1]).join('\n'), /600,000/, 'the taught question is answered; the entry is still there');
    impostor.close();
  } finally {
    await bot.stop();
  }
});

for (const [name, url] of [['TLS', () => `ircs://127.0.0.1:${irc.tlsPort}`], ['WebSocket', () => `ws://127.0.0.1:${irc.wsPort}/`]]) {
  test(`over ${name}: connected, verified and answering`, async () => {
    const bot = await startBot({ url: url(), config: { tls_ca_file: irc.caFile } });
    const bob = await person(`bob${name.length}`);
    try {
      assert.match(bot.log, new RegExp(`\\(${name}\\)`));
      const lines = await ask(bob, CHANNEL, "planbot: How big can Ukraine's army be?");
      assert.match(lines.map((l) => l.params[1]).join('\n'), /600,000/);
    } finally {
      bob.close();
      await bot.stop();
    }
  });
}

// A WebSocket gateway in front of the network's TCP port that chooses no subprotocol (plain text
// frames, one IRC line each, as IRCv3's WebSocket spec allows): some gateways do.
async function plainGateway(port) {
  const { WebSocketServer } = require('ws');
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => false });
  const offered = [];
  server.on('connection', (ws, req) => {
    offered.push(req.headers['sec-websocket-protocol'] || '');
    const tcp = require('node:net').connect(port, '127.0.0.1');
    let rest = '';
    tcp.on('data', (d) => {
      rest += d.toString('utf8');
      let nl;
      while ((nl = rest.indexOf('\n')) >= 0) {
        ws.send(rest.slice(0, nl).replace(/\r$/, ''));
        rest = rest.slice(nl + 1);
      }
    });
    ws.on('message', (data) => tcp.write(`${data.toString('utf8')}\r\n`));
    tcp.on('close', () => ws.close());
    ws.on('close', () => tcp.destroy());
  });
  await new Promise((r) => server.once('listening', r));
  return { port: server.address().port, offered, close: () => new Promise((r) => server.close(r)) };
}

test('over a WebSocket gateway that chooses no subprotocol: plain text frames, answered', async () => {
  const gw = await plainGateway(irc.port);
  const bot = await startBot({ url: `ws://127.0.0.1:${gw.port}/` });
  const erin = await person('erin');
  try {
    assert.match(gw.offered[0], /text\.ircv3\.net/, 'planbot offers the subprotocols');
    const lines = await ask(erin, CHANNEL, "planbot: How big can Ukraine's army be?");
    assert.match(lines.map((l) => l.params[1]).join('\n'), /600,000/);
  } finally {
    erin.close();
    await bot.stop();
    await gw.close();
  }
});

test('without account-tag, moderators are known by account-notify, extended-join and WHOX: logging out takes the rights away', async () => {
  // a network whose messages carry no account: planbot must learn who is logged in from the joins,
  // the account changes and WHOX; nicks still count for nothing
  const plain = await startIrc({ accountTag: false });
  const dir = fs.mkdtempSync(path.join(tmp, 'notag-'));
  let bot;
  try {
    await plain.register('mod', MOD_PASSWORD);
    // logged in before planbot is there: WHOX, when planbot joins, says who is who
    const early = new IrcClient();
    clients.push(early);
    await early.connect({ port: plain.port, nick: 'earlybird', sasl: { account: 'mod', password: MOD_PASSWORD } });
    early.send(`JOIN ${CHANNEL}`);
    await early.waitFor((m) => m.command === 'JOIN' && m.nick === 'earlybird');
    bot = await startBot({ url: `irc://127.0.0.1:${plain.port}`, dir });
    const made = await ask(early, CHANNEL, 'planbot: kb teach "what size may the army of Ukraine be" army-cap');
    assert.doesNotMatch(made.map((l) => l.params[1]).join('\n'), /only moderators/i, made.map((l) => l.line).join('\n'));
    // joining after planbot, logged in: extended-join says the account
    const late = new IrcClient();
    clients.push(late);
    await late.connect({ port: plain.port, nick: 'latecomer', sasl: { account: 'mod', password: MOD_PASSWORD } });
    late.send(`JOIN ${CHANNEL}`);
    await late.waitFor((m) => m.command === 'JOIN' && m.nick === 'latecomer');
    const taught = await ask(late, CHANNEL, 'planbot: kb teach "how large an army for Ukraine" army-cap');
    assert.doesNotMatch(taught.map((l) => l.params[1]).join('\n'), /only moderators/i);
    // logging out (account-notify "*"): the same person, the same nick, no rights any more
    late.send('PRIVMSG NickServ :LOGOUT');
    await late.waitFor((m) => m.command === 'NOTICE' && /^NickServ$/i.test(m.nick) && /logged out/i.test(m.params[1]), 10000 * SLOW);
    await sleep(300);
    const refused = await ask(late, CHANNEL, 'planbot: kb remove army-cap');
    assert.match(refused.map((l) => l.params[1]).join('\n'), /only moderators/i);
    // and someone who merely takes the nick of an account gets nothing either
    const impostor = new IrcClient();
    clients.push(impostor);
    await impostor.connect({ port: plain.port, nick: 'mod' });
    impostor.send(`JOIN ${CHANNEL}`);
    await impostor.waitFor((m) => m.command === 'JOIN' && m.nick === 'mod');
    const no = await ask(impostor, CHANNEL, 'planbot: kb remove army-cap');
    assert.match(no.map((l) => l.params[1]).join('\n'), /only moderators/i);
  } finally {
    if (bot) await bot.stop();
    await plain.stop();
  }
});

test('over TLS, a certificate no CA vouches for is refused', async () => {
  const bot = await startBot({ url: `ircs://127.0.0.1:${irc.tlsPort}`, wait: false });
  try {
    await bot.waitLog(/irc: disconnected \(TLS handshake failed: the certificate was refused/, 30000 * SLOW);
    assert.doesNotMatch(bot.log, /irc: connected/);
  } finally {
    await bot.stop();
  }
});

test('kicked, planbot joins again; after a server restart it reconnects and answers', async () => {
  const op = new IrcClient();
  clients.push(op);
  await op.connect({ port: irc.port, nick: 'op' });
  op.send('JOIN #kicks'); // the first in a channel is its operator
  await op.waitFor((m) => m.command === 'JOIN' && m.nick === 'op');
  const bot = await startBot({ irc: { channels: ['#kicks', CHANNEL] } });
  try {
    await op.waitFor((m) => m.command === 'JOIN' && m.nick === 'planbot', 10000 * SLOW);
    const from = op.lines.length;
    op.send('KICK #kicks planbot :out');
    await op.waitFor((m) => m.command === 'JOIN' && m.nick === 'planbot', 10000 * SLOW, from);
    assert.match(bot.log, /kicked by op \(out\) from #kicks/);
    op.close();

    const joins = bot.count(/irc: joined #plan/); // before: the rejoin can follow at once
    await irc.restart();
    await bot.waitLog(/irc: disconnected/, 10000 * SLOW);
    await bot.waitLog(new RegExp(`(irc: joined #plan[\\s\\S]*){${joins + 1}}`), 30000 * SLOW);
    const carol = await person('carol');
    const lines = await ask(carol, CHANNEL, "planbot: How big can Ukraine's army be?");
    assert.match(lines.map((l) => l.params[1]).join('\n'), /600,000/);
    carol.close();
  } finally {
    await bot.stop();
  }
});

test('a 1,000-byte answer is split into lines under 512 bytes, on word boundaries, whole and in order', async () => {
  const dir = path.join(tmp, 'long');
  fs.mkdirSync(dir);
  const db = path.join(dir, 'kb.db');
  const source = JSON.parse(execFileSync(process.env.PLANBOT, ['--db', db, 'kb', 'source', 'show', 'cnn-2025-11-20', '--json']));
  // the longest paragraph and those after it, to over 1,000 bytes
  const paras = source.text.split('\n').filter((p) => p.trim());
  let i = paras.reduce((best, p, k) => (Buffer.byteLength(p) > Buffer.byteLength(paras[best]) ? k : best), 0);
  let text = '';
  while (Buffer.byteLength(text) < 1000 && i < paras.length) text = `${text} ${paras[i++]}`.trim();
  execFileSync(process.env.PLANBOT, ['--db', db, 'kb', 'add', '--id', 'long-passage', '--kind', 'provision', '--title', 'A long passage',
    '--text', text, '--source', 'cnn-2025-11-20', '--keywords', 'zebra passage']);
  const bot = await startBot({ dir });
  const dora = await person('dora');
  try {
    const lines = await ask(dora, CHANNEL, 'planbot: zebra passage', 1000);
    for (const l of lines) {
      assert.ok(l.bytes <= 512, `a line of ${l.bytes} bytes: ${l.line}`);
      assert.equal(Buffer.from(l.raw.toString('utf8')).length, l.raw.length, 'a UTF-8 character was cut');
    }
    const said = lines.map((l) => l.params[1].replace(/^dora: /, '').replace(/^> ?/, '')).join(' ');
    const norm = (s) => s.replace(/\s+/g, ' ').trim();
    assert.ok(norm(said).includes(norm(text)), `the passage is not whole:\n${said}`);
    assert.ok(lines.length >= 3, `${lines.length} lines`);
  } finally {
    dora.close();
    await bot.stop();
  }
});

test('planbot logs in to its own account with SASL; a wrong password stops it, saying why', async () => {
  const bot = await startBot({ irc: { account: 'planbotacct' }, env: { IRC_SASL_PASSWORD: BOT_PASSWORD } });
  const fay = await person('fay', { caps: ['account-tag'] });
  try {
    const lines = await ask(fay, CHANNEL, "planbot: How big can Ukraine's army be?");
    assert.equal(lines[0].tags.account, 'planbotacct');
  } finally {
    fay.close();
    await bot.stop();
  }
  const wrong = await startBot({ irc: { account: 'planbotacct' }, env: { IRC_SASL_PASSWORD: 'not-the-password' }, wait: false });
  const r = await wrong.done;
  assert.equal(r.code, 1, wrong.log);
  assert.match(wrong.log, /services refused to log planbot in to the account planbotacct/);
  assert.ok(!wrong.log.includes('not-the-password'));
});

test('a nick in use: planbot takes another and still answers to it', async () => {
  const squatter = new IrcClient();
  clients.push(squatter);
  await squatter.connect({ port: irc.port, nick: 'planbot' });
  const bot = await startBot();
  const gus = await person('gus');
  try {
    assert.match(bot.log, /connected to 127\.0\.0\.1 as planbot_/);
    const from = gus.lines.length;
    gus.send(`PRIVMSG ${CHANNEL} :planbot_: How big can Ukraine's army be?`);
    const l = await gus.waitFor((m) => m.command === 'PRIVMSG' && m.nick === 'planbot_', 10000 * SLOW, from);
    assert.match(l.params[1], /^gus: /);
    squatter.close();
  } finally {
    gus.close();
    await bot.stop();
  }
});
