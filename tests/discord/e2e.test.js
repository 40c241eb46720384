// e2e.test.js - planbot against the fake Discord, end to end: the real binary, the real sockets,
// everything on 127.0.0.1. Run: PLANBOT=build/planbot node --test tests/discord/e2e.test.js
'use strict';

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { performance } = require('node:perf_hooks');
const { startFakeDiscord, BOT_ID, TOWN, ROLE_MOD } = require('./fake_discord');
const { startPlanbot, sleep } = require('../slack/planbot');

const TOKEN = 'discord-e2e-secret-token';
const MODERATOR = { id: '6000000000000000099', username: 'mod' };
const BOB = { id: '6000000000000000002', username: 'bob' };
const CAROL = { id: '6000000000000000003', username: 'carol' };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'planbot-discord-e2e-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

// Starts planbot on the discord platform against fake; resolves once it is connected.
async function startBot(fake, { config = {}, env = {}, dir, waitConnected = true } = {}) {
  fake.apiUrl = `${fake.url}/unused-slack/`; // the launcher also sets SLACK_API_URL
  const bot = await startPlanbot(fake, {
    tmp,
    appToken: TOKEN,
    botToken: TOKEN,
    config: { platform: 'discord', moderators: { discord: [MODERATOR.id] }, ...config },
    env: { DISCORD_API_URL: `${fake.url}/api`, DISCORD_TOKEN: TOKEN, ...env },
    waitConnected: false,
    dir,
  });
  if (waitConnected) await bot.waitLog(/discord: connected as planbot/);
  return bot;
}

const mention = (text) => `<@${BOT_ID}> ${text}`;

// Says text (in TOWN, or as a DM when opts.dm) and waits for the next reply.
async function ask(fake, text, opts = {}) {
  const before = fake.posts.length;
  const q = opts.dm ? fake.dm(text, opts) : fake.say(text, opts);
  await fake.waitFor(() => fake.posts.length > before, opts.ms || 5000);
  return { q, reply: fake.posts[before] };
}

// What every reply must be: a reply to its question that can ping no one.
function assertSafeReply(post, question) {
  assert.equal(post.body.message_reference.message_id, question.id);
  assert.equal(post.body.message_reference.fail_if_not_exists, false);
  assert.deepEqual(post.body.allowed_mentions, { parse: [], replied_user: false });
}

test('a mention in a server channel is answered as a reply, with the entry and its citation', async () => {
  const fake = await startFakeDiscord({ token: TOKEN });
  const bot = await startBot(fake);
  try {
    const { q, reply } = await ask(fake, mention("How big can Ukraine's army be?"));
    assert.equal(reply.channel_id, TOWN);
    assertSafeReply(reply, q);
    assert.match(reply.body.content, /600,000/);
    assert.match(reply.body.content, /Source: CNN/);
    assert.equal(reply.message.type, 19, 'Discord shows it as a reply');
    // the older <@!id> form, and the mention at the end
    const late = await ask(fake, `What did Rubio say? <@!${BOT_ID}>`);
    assert.match(late.reply.body.content, /Rubio/);
    fake.say('and what about Crimea?'); // no mention, in a channel
    await sleep(500);
    assert.equal(fake.posts.length, 2, 'a message without a mention in a channel is not answered');
    const identify = fake.frames.find((f) => f.frame && f.frame.op === 2);
    assert.equal(identify.frame.d.intents, 1 | 512 | 4096 | 32768);
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test("a direct message is answered; planbot's own, bots', webhooks' and system messages are not", async () => {
  const fake = await startFakeDiscord({ token: TOKEN });
  const bot = await startBot(fake);
  try {
    fake.say(mention('army size?'), { user: { id: '6000000000000000050', username: 'otherbot', bot: true } });
    fake.say(mention('army size?'), { user: { id: '6000000000000000051', username: 'hook' }, webhookId: '7000000000000000001' });
    fake.say(mention('pinned a message'), { type: 6 });
    const { q, reply } = await ask(fake, 'Would Ukraine have to leave Donetsk?', { dm: true, user: BOB });
    assertSafeReply(reply, q);
    assert.notEqual(reply.channel_id, TOWN);
    assert.match(reply.body.content, /Donetsk/);
    await sleep(500); // planbot's own reply came back as MESSAGE_CREATE too
    assert.equal(fake.posts.length, 1, 'only the direct message was answered');
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test("a moderator's change is made, by user id or by role, and anyone else's is refused", async () => {
  const fake = await startFakeDiscord({ token: TOKEN });
  const bot = await startBot(fake, { config: { discord: { moderator_role: ROLE_MOD } } });
  try {
    const refused = await ask(fake, mention('kb remove army-cap'), { user: BOB });
    assert.match(refused.reply.body.content, /moderator/i);
    // a name is not an id: a user called "mod" is nobody special
    const named = await ask(fake, mention('kb remove army-cap'), { user: { id: '6000000000000000077', username: MODERATOR.username } });
    assert.match(named.reply.body.content, /moderator/i);
    const made = await ask(fake, 'kb teach "how many soldiers may Kyiv keep" army-cap', { dm: true, user: MODERATOR });
    assert.doesNotMatch(made.reply.body.content, /moderator/i);
    const { reply } = await ask(fake, mention('how many soldiers may Kyiv keep'), { user: BOB });
    assert.match(reply.body.content, /600,000/);
    // carol holds the moderators' role in the server: her change is made
    const byRole = await ask(fake, mention('kb teach "what is the troop ceiling" army-cap'), { user: CAROL, roles: [ROLE_MOD] });
    assert.doesNotMatch(byRole.reply.body.content, /moderator/i);
    const again = await ask(fake, mention('what is the troop ceiling'), { user: BOB });
    assert.match(again.reply.body.content, /600,000/);
    // the same role in a DM, where Discord sends no member object, gives no rights
    const dm = await ask(fake, 'kb remove army-cap', { dm: true, user: CAROL });
    assert.match(dm.reply.body.content, /moderator/i);
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test('a reply longer than 2,000 characters is split into replies to the question, in order', async () => {
  const fake = await startFakeDiscord({ token: TOKEN });
  const bot = await startBot(fake);
  try {
    const q = fake.dm('kb history --limit 200', { user: MODERATOR });
    await fake.waitFor(() => fake.posts.length >= 2);
    await sleep(1500); // every part (the channel's bucket spaces them)
    for (const p of fake.posts) {
      assertSafeReply(p, q);
      assert.ok([...p.body.content].length <= 2000, `a post of ${[...p.body.content].length} characters`);
    }
    const numbers = fake.posts.map((p) => p.body.content).join('\n').split('\n')
      .filter((l) => /^\s*\d+\s+\d{4}-/.test(l)).map((l) => Number(l.trim().split(/\s+/)[0]));
    assert.ok(numbers.length > 50, `${numbers.length} changes`);
    numbers.forEach((n, i) => assert.equal(n, numbers[0] - i));
    assert.equal(fake.violations, 0, 'no request over a bucket');
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test('a zombie connection (no heartbeat ACK) is resumed, and what was said meanwhile is answered once', async () => {
  // (under valgrind a beat can come late enough for the fake to hang up first: a longer interval)
  const fake = await startFakeDiscord({ token: TOKEN, heartbeatInterval: process.env.PLANBOT_WRAPPER ? 2000 : 400 });
  const bot = await startBot(fake);
  try {
    await ask(fake, mention('What did Rubio say?'));
    fake.zombie(true); // acks and events stop; the session keeps what is said
    const q = fake.say(mention("How big can Ukraine's army be?"));
    await fake.waitFor(() => fake.posts.length === 2, 10000);
    assertSafeReply(fake.posts[1], q);
    assert.match(fake.posts[1].body.content, /600,000/);
    assert.equal(fake.resumes, 1);
    assert.equal(fake.identifies, 1);
    assert.equal(fake.connections.at(-1).path, '/resume', 'resumed on resume_gateway_url');
    const resume = fake.frames.find((f) => f.frame && f.frame.op === 6);
    assert.ok(resume.frame.d.seq >= 3 && resume.frame.d.session_id, JSON.stringify(resume.frame.d));
    assert.match(bot.log, /heartbeat was not acknowledged/);
    await sleep(800);
    assert.equal(fake.posts.length, 2, 'answered once');
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test('a dropped connection resumes; RECONNECT resumes; a resumable Invalid Session resumes', async () => {
  const fake = await startFakeDiscord({ token: TOKEN });
  const bot = await startBot(fake);
  try {
    await ask(fake, mention('What did Rubio say?'));
    fake.dropSockets();
    const q1 = fake.say(mention('Would Ukraine have to leave Donetsk?')); // while it is down
    await fake.waitFor(() => fake.posts.length === 2, 10000);
    assertSafeReply(fake.posts[1], q1);
    assert.equal(fake.resumes, 1);
    fake.reconnect();
    await fake.waitFor(() => fake.resumes === 2, 10000);
    await ask(fake, mention("How big can Ukraine's army be?"), { ms: 10000 });
    fake.invalidSession(true);
    await fake.waitFor(() => fake.resumes === 3, 10000);
    await ask(fake, mention('What did Rubio say?'), { ms: 10000 });
    assert.equal(fake.identifies, 1, 'one session all along');
    assert.equal(fake.posts.length, 4);
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test('a session that cannot be resumed starts anew, and what was said meanwhile is read from the history', async () => {
  const fake = await startFakeDiscord({ token: TOKEN });
  const bot = await startBot(fake);
  try {
    await ask(fake, mention('What did Rubio say?'));
    await ask(fake, 'How big can the army be?', { dm: true, user: BOB });
    fake.invalidSession(false); // the session is over: its replay is lost
    const q1 = fake.say(mention('Would Ukraine have to leave Donetsk?'));
    const q2 = fake.dm('What did Rubio say?', { user: BOB });
    fake.say('What did Rubio say?'); // no mention: read back from the history, and not answered
    await fake.waitFor(() => fake.identifies === 2, 10000);
    await fake.waitFor(() => fake.posts.length === 4, 10000);
    const answered = fake.posts.slice(2).map((p) => p.body.message_reference.message_id).sort();
    assert.deepEqual(answered, [q1.id, q2.id].sort());
    assert.ok(fake.requests.some((r) => r.method === 'GET' && /\/channels\/\d+\/messages$/.test(r.path) && /after=/.test(r.query)),
      'read the channel history');
    // a close that ends the session (4009, session timed out) does the same
    fake.closeSockets(4009, 'Session timed out.');
    const q3 = fake.say(mention("How big can Ukraine's army be?"));
    await fake.waitFor(() => fake.identifies === 3, 10000);
    await fake.waitFor(() => fake.posts.length === 5, 10000);
    assert.equal(fake.posts[4].body.message_reference.message_id, q3.id);
    await sleep(500);
    assert.equal(fake.posts.length, 5, 'nothing answered twice');
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test('a close code that forbids reconnecting stops planbot with what to fix', async () => {
  const fake = await startFakeDiscord({ token: TOKEN });
  const bot = await startBot(fake);
  fake.closeSockets(4004, 'Authentication failed.');
  const r = await bot.done;
  assert.notEqual(r.code, 0);
  assert.match(bot.log, /Discord refused the bot token \(close 4004, authentication failed\): check DISCORD_TOKEN; stopping/);
  assert.equal(fake.connections.length, 1, 'it did not reconnect');
  assert.ok(!bot.log.includes(TOKEN));
  await fake.close();
  // an application without the privileged intent: 4014 names it; with message_content off it works
  const strict = await startFakeDiscord({ token: TOKEN, messageContent: false });
  const refused = await startBot(strict, { waitConnected: false });
  const r2 = await refused.done;
  assert.notEqual(r2.code, 0);
  assert.match(refused.log, /Message Content Intent/);
  assert.match(refused.log, /discord\.message_content to false/);
  const bot2 = await startBot(strict, { config: { discord: { message_content: false } } });
  try {
    const { reply } = await ask(strict, mention("How big can Ukraine's army be?"));
    assert.match(reply.body.content, /600,000/, 'a mention keeps its content without the intent');
  } finally {
    await bot2.stop();
    await strict.close();
  }
});

test('a wrong token is refused at GET /gateway/bot, and planbot stops without retrying', async () => {
  const fake = await startFakeDiscord({ token: 'the-right-one' });
  const bot = await startBot(fake, { waitConnected: false });
  const r = await bot.done;
  assert.notEqual(r.code, 0);
  assert.match(bot.log, /Discord refused the bot token \(DISCORD_TOKEN\)/);
  assert.equal(fake.requests.filter((q) => /gateway\/bot/.test(q.path)).length, 1);
  assert.ok(!bot.log.includes(TOKEN));
  await fake.close();
});

test('a 429 on a channel holds that channel only; a global 429 holds everything; nothing lost or doubled', async () => {
  const fake = await startFakeDiscord({ token: TOKEN });
  const bot = await startBot(fake);
  try {
    await ask(fake, mention('What did Rubio say?')); // TOWN is a known channel now
    // 3.5 s: long enough that the other channel's answer comes first even under valgrind on a
    // loaded machine (1.5 s was once missed there)
    fake.rateLimit({ scope: 'bucket', count: 1, retryAfter: 3.5 });
    const t0 = Date.now();
    fake.say(mention("How big can Ukraine's army be?"));
    await sleep(100);
    const dm = await ask(fake, 'Would Ukraine have to leave Donetsk?', { dm: true, user: BOB });
    assert.ok(Date.now() - t0 < 3400, 'another channel went on meanwhile');
    assert.match(dm.reply.body.content, /Donetsk/);
    await fake.waitFor(() => fake.posts.length === 3, 7000);
    assert.ok(fake.posts[2].at - fake.limitedAt[0] >= 3500 - 20, 'the limited channel waited retry_after');
    assert.match(bot.log, /discord: rate limited in 3000000000000000001; posting there again in 3\.5 s/);
    // global: once the 429 is in, nothing at all until it is over
    fake.rateLimit({ scope: 'global', count: 1, retryAfter: 1 });
    fake.say(mention('What did Rubio say?'));
    await fake.waitFor(() => fake.limitedAt.length === 2, 5000);
    fake.dm('What did Rubio say?', { user: BOB });
    await fake.waitFor(() => fake.posts.length === 5, 8000);
    assert.equal(fake.earlyDuringGlobal, 0, 'nothing was sent during the global wait');
    assert.ok(fake.posts[3].at - fake.limitedAt[1] >= 1000 - 20 && fake.posts[4].at - fake.limitedAt[1] >= 1000 - 20);
    assert.match(bot.log, /discord: rate limited; posting again in 1 s/);
    // a burst in one channel follows the bucket's headers: no request over it
    for (let i = 0; i < 12; i++) fake.say(mention(i % 2 ? 'What did Rubio say?' : 'How big can the army be?'));
    await fake.waitFor(() => fake.posts.length === 17, 15000);
    await sleep(500);
    assert.equal(fake.posts.length, 17, 'each answered once');
    assert.equal(fake.violations, 0, 'never over a bucket');
    // a burst over 60 channels at once stays under Discord's global 50 requests a second
    const t1 = Date.now();
    for (let i = 0; i < 60; i++) fake.dm('What did Rubio say?', { user: { id: String(6100000000000000000n + BigInt(i)), username: `u${i}` } });
    await fake.waitFor(() => fake.posts.length === 77, 15000);
    assert.ok(Date.now() - t1 >= 1000, 'sixty posts took at least a second');
    assert.equal(fake.violations, 0, 'never over the global limit');
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test('hostile mentions and markup ping no one and format nothing', async () => {
  // a source and an entry holding every kind of mention and markup, put in from the command line
  const hostile = '@everyone @here <@6000000000000000002> <@&5000000000000000001> **loud** [click](https://evil.example) ||spoiler|| ceasefire bananas';
  const dir = path.join(tmp, 'hostile');
  fs.mkdirSync(dir);
  const text = path.join(dir, 'source.txt');
  fs.writeFileSync(text, `${hostile}\n`);
  const cli = (...args) => execFileSync(process.env.PLANBOT, ['--db', path.join(dir, 'kb.db'), ...args], { env: { HOME: dir, PATH: process.env.PATH } });
  cli('kb', 'source', 'add', '--id', 'hostile-src', '--title', '@here **Title** <@&5000000000000000001>', '--publisher', '@everyone', '--text-file', text);
  cli('kb', 'add', '--id', 'hostile-test', '--kind', 'provision', '--title', 'Hostile bananas', '--text', hostile, '--source', 'hostile-src', '--keywords', 'bananas');
  const fake = await startFakeDiscord({ token: TOKEN });
  const bot = await startBot(fake, { dir });
  try {
    const { reply } = await ask(fake, mention('what about the ceasefire bananas?'));
    const c = reply.body.content;
    assert.match(c, /bananas/);
    assert.doesNotMatch(c, /@(everyone|here)\b/);
    assert.doesNotMatch(c, /(^|[^\\])<@/);
    assert.doesNotMatch(c, /(^|[^\\])\*\*/);
    assert.doesNotMatch(c, /(^|[^\\])\[click\]/);
    assert.doesNotMatch(c, /(^|[^\\])\|\|/);
    assert.deepEqual(reply.body.allowed_mentions, { parse: [], replied_user: false });
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test('session starts used up: planbot waits for them to come back rather than identifying', async () => {
  const fake = await startFakeDiscord({ token: TOKEN, sessionStartRemaining: 0, sessionResetAfter: 3600000 });
  // the starts come back 2 s after planbot first asks, however slowly it starts (valgrind)
  const gatewayBot = fake.gatewayBot.bind(fake);
  fake.gatewayBot = () => {
    if (fake.sessionStart.resetAfter !== 2000) {
      fake.sessionStart.resetAfter = 2000;
      fake.sessionStart.resetAt = performance.now() + 2000;
    }
    return gatewayBot();
  };
  const bot = await startBot(fake, { waitConnected: false });
  try {
    await bot.waitLog(/no session starts are left/);
    assert.equal(fake.identifies, 0);
    // Discord gives them back after reset_after
    await bot.waitLog(/discord: connected as planbot/, 10000);
    assert.equal(fake.identifies, 1);
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test('a crash between receipt and reply is answered at the next start', async () => {
  const fake = await startFakeDiscord({ token: TOKEN });
  let bot = await startBot(fake);
  const dir = bot.dir;
  try {
    fake.rateLimit({ scope: 'bucket', count: 1000, retryAfter: 3 }); // nothing can be posted
    fake.say(mention("How big can Ukraine's army be?"));
    await bot.waitLog(/rate limited in \d+; posting there again/);
    await bot.kill(); // recorded, never answered
    fake.injected.length = 0;
    bot = await startBot(fake, { dir });
    await fake.waitFor(() => fake.posts.length === 1, 15000);
    assert.match(fake.posts[0].body.content, /600,000/);
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test('one process serves Mattermost and Discord at once, with one knowledge base', async () => {
  const { startFakeMattermost } = require('../mattermost/fake_mattermost');
  const mm = await startFakeMattermost({ token: 'mm-multi-token' });
  const fake = await startFakeDiscord({ token: TOKEN });
  const bot = await startBot(fake, {
    config: { platforms: ['mattermost', 'discord'], moderators: { discord: [MODERATOR.id] }, mattermost: { pace_ms: 0 } },
    env: { MATTERMOST_URL: mm.url, MATTERMOST_TOKEN: 'mm-multi-token' },
  });
  try {
    await bot.waitLog(/mattermost: connected as @planbot/);
    // a moderator on Discord teaches; the Mattermost user's question finds it
    await ask(fake, 'kb teach "how many soldiers may Kyiv keep" army-cap', { dm: true, user: MODERATOR });
    mm.say('@planbot how many soldiers may Kyiv keep');
    await mm.waitFor(() => mm.posts.length === 1, 10000);
    assert.match(mm.posts[0].message, /600,000/);
    const { reply } = await ask(fake, mention('What did Rubio say?'));
    assert.match(reply.body.content, /Rubio/);
  } finally {
    await bot.stop();
    assert.ok(!bot.log.includes('mm-multi-token'));
    await mm.close();
    await fake.close();
  }
});

test("follow-ups continue the asker's conversation: a topic's number, and a question read with the one before", async () => {
  const fake = await startFakeDiscord({ token: TOKEN });
  const bot = await startBot(fake);
  try {
    const declined = await ask(fake, mention('what about the ceasefire bananas?'));
    assert.match(declined.reply.body.content, /Reply with the number of a topic/);
    const first = /1\. ([^\n;]*?) \\\[([a-z0-9-]+)\]/.exec(declined.reply.body.content);
    assert.ok(first, declined.reply.body.content);
    // someone else's "1" in the same channel is not a pick of alice's topics
    const other = await ask(fake, mention('1'), { user: BOB });
    assert.doesNotMatch(other.reply.body.content, new RegExp(`\\[${first[2]}\\]`));
    const pick = await ask(fake, mention('1'));
    assert.match(pick.reply.body.content, new RegExp(`\\[${first[2]}\\]`), 'the first topic suggested');
    // "and the russians?" alone is nothing; after a question about Donetsk it is about what
    // Russia gets there; in a DM the conversation is the channel's
    const alone = await ask(fake, 'and the russians?', { dm: true, user: BOB });
    assert.match(alone.reply.body.content, /I don't know/);
    await ask(fake, 'what happens to donetsk?', { dm: true, user: CAROL });
    const more = await ask(fake, 'and the russians?', { dm: true, user: CAROL });
    assert.match(more.reply.body.content, /de facto Russian/);
  } finally {
    await bot.stop();
    await fake.close();
  }
});

// planbot reads the system's certificate authorities from their hashed directory, one when a
// chain needs it, not the whole bundle at every start (which was 87% of a start). Here the
// directory (SSL_CERT_DIR) holds a stand-in system CA that signed the certificate of a TLS proxy in
// front of the fake's Gateway.
test("the system's authorities are read from their hashed directory when a chain needs one", async () => {
  const { makeCerts, startTlsProxy, hashName } = require('../fake/pki');
  const pki = path.join(tmp, 'pki');
  const certs = makeCerts(pki);
  const store = path.join(tmp, 'store');
  const other = path.join(tmp, 'other-store');
  for (const [dir, ca] of [[store, certs.systemCaFile], [other, certs.otherCaFile]]) {
    fs.mkdirSync(dir);
    fs.copyFileSync(ca, path.join(dir, hashName(pki, ca)));
  }
  const fake = await startFakeDiscord({ token: TOKEN });
  const proxy = await startTlsProxy(certs.systemSigned, { port: fake.port });
  const gatewayBot = fake.gatewayBot.bind(fake);
  fake.gatewayBot = () => ({ ...gatewayBot(), url: `wss://127.0.0.1:${proxy.port}` });
  try {
    // a store without that CA: refused, and tried again
    const refused = await startBot(fake, { env: { SSL_CERT_DIR: other }, waitConnected: false });
    await refused.waitLog(/discord: disconnected \(.*SSL/);
    assert.equal(fake.identifies, 0);
    await refused.stop();
    const bot = await startBot(fake, { env: { SSL_CERT_DIR: store } });
    try {
      const { reply } = await ask(fake, mention("How big can Ukraine's army be?"));
      assert.match(reply.body.content, /600,000/);
      assert.ok(proxy.handshakes >= 1);
    } finally {
      await bot.stop();
    }
  } finally {
    await proxy.close();
    await fake.close();
  }
});
