// e2e.test.js - planbot against the fake Mattermost, end to end: the real binary, the real
// sockets, everything on 127.0.0.1. Run: PLANBOT=build/planbot node --test tests/mattermost/e2e.test.js
'use strict';

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startFakeMattermost } = require('./fake_mattermost');
const { startPlanbot, sleep } = require('../slack/planbot');

const TOKEN = 'mm-e2e-secret-token';
const MODERATOR = 'umod';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'planbot-mm-e2e-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

// Starts planbot on the mattermost platform against fake; resolves once it is connected.
async function startBot(fake, { config = {}, env = {}, dir, waitConnected = true } = {}) {
  fake.apiUrl = `${fake.url}/unused-slack/`; // the launcher also sets SLACK_API_URL
  const bot = await startPlanbot(fake, {
    tmp,
    appToken: TOKEN,
    botToken: TOKEN,
    config: { platform: 'mattermost', moderators: { mattermost: [MODERATOR] }, mattermost: { pace_ms: 0 }, ...config },
    env: { MATTERMOST_URL: fake.url, MATTERMOST_TOKEN: TOKEN, ...env },
    waitConnected: false,
    dir,
  });
  if (waitConnected) await bot.waitLog(/mattermost: connected as @planbot/);
  return bot;
}

// Posts text as user and waits for the next reply.
async function ask(fake, text, opts = {}) {
  const before = fake.posts.length;
  const q = fake.say(text, opts);
  await fake.waitFor(() => fake.posts.length > before);
  return { q, reply: fake.posts[before] };
}

test('a mention in a channel is answered in its thread, with the entry and its citation', async () => {
  const fake = await startFakeMattermost({ token: TOKEN });
  const bot = await startBot(fake);
  try {
    const { q, reply } = await ask(fake, "@planbot How big can Ukraine's army be?");
    assert.equal(reply.channel_id, 'town');
    assert.equal(reply.root_id, q.id);
    assert.match(reply.message, /600,000/);
    assert.match(reply.message, /\[/); // the citation
    fake.say('and what about Crimea?', { rootId: q.id }); // no mention, in a channel
    await sleep(500);
    assert.equal(fake.posts.length, 1, 'a message without a mention in a channel is not answered');
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test('a direct message is answered; own, bot, system and unmentioned posts are not', async () => {
  const fake = await startFakeMattermost({ token: TOKEN });
  const bot = await startBot(fake);
  try {
    fake.say('How big can the army be?', { channel: 'town' }); // no mention
    fake.say('@planbot army size?', { user: 'otherbot', props: { from_bot: 'true' } });
    fake.say('@planbot joined', { postType: 'system_join_channel' });
    const { reply } = await ask(fake, 'Would Ukraine have to leave Donetsk?', { channel: 'dm1', type: 'D' });
    assert.equal(reply.channel_id, 'dm1');
    await sleep(300);
    assert.equal(fake.posts.length, 1, 'only the direct message was answered');
    assert.match(reply.message, /Donetsk/);
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test("a moderator's change is made and a non-moderator's is refused", async () => {
  const fake = await startFakeMattermost({ token: TOKEN });
  const bot = await startBot(fake);
  try {
    const refused = await ask(fake, '@planbot kb remove army-cap', { user: 'u2' });
    assert.match(refused.reply.message, /moderator/i);
    const made = await ask(fake, 'kb teach "how many soldiers may Kyiv keep" army-cap', { user: MODERATOR, channel: 'dmmod', type: 'D' });
    assert.doesNotMatch(made.reply.message, /moderator/i);
    const { reply } = await ask(fake, '@planbot how many soldiers may Kyiv keep');
    assert.match(reply.message, /600,000/);
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test('a reply longer than a post is split under 16,383 characters, in order, in its thread', async () => {
  const fake = await startFakeMattermost({ token: TOKEN });
  const bot = await startBot(fake);
  try {
    const q = fake.say('kb history --limit 500', { user: MODERATOR, channel: 'dmlong', type: 'D' });
    await fake.waitFor(() => fake.posts.length >= 2);
    await sleep(500); // every part
    const parts = fake.posts.map((p) => p.message);
    assert.ok(parts.length >= 2, `${parts.length} posts`);
    for (const p of fake.posts) {
      assert.equal(p.root_id, q.id);
      assert.ok([...p.message].length <= 16383, `a post of ${[...p.message].length} characters`);
    }
    const whole = parts.join('\n');
    assert.ok([...whole].length > 16383, 'the history is longer than one post');
    // cut at line ends: every change whole, the newest first, none lost or repeated
    const numbers = whole.split('\n').filter((l) => /^\s*\d+\s+\d{4}-/.test(l)).map((l) => Number(l.trim().split(/\s+/)[0]));
    assert.ok(numbers.length > 100, `${numbers.length} changes`);
    numbers.forEach((n, i) => assert.equal(n, numbers[0] - i));
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test('questions asked while the socket was down are answered once after it reconnects', async () => {
  const fake = await startFakeMattermost({ token: TOKEN });
  const bot = await startBot(fake);
  try {
    await ask(fake, '@planbot How big can the army be?'); // planbot now knows the channel
    const n = bot.count(/mattermost: connected as/);
    fake.dropSockets();
    await bot.waitLog(/mattermost: disconnected/);
    fake.say('@planbot What did Rubio say?'); // nobody listening: only the history has it
    await fake.waitFor(() => bot.count(/mattermost: connected as/) > n, 15000);
    await fake.waitFor(() => fake.posts.length === 2, 10000);
    await sleep(500);
    assert.equal(fake.posts.length, 2, 'answered once');
    assert.match(fake.posts[1].message, /Rubio/);
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test('a first direct message from someone new, sent while the socket was down, is answered', async () => {
  const fake = await startFakeMattermost({ token: TOKEN });
  const bot = await startBot(fake);
  try {
    const n = bot.count(/mattermost: connected as/);
    fake.dropSockets();
    await bot.waitLog(/mattermost: disconnected/);
    fake.say('How big can the army be?', { user: 'newcomer', channel: 'dmnew', type: 'D' }); // a channel planbot never saw
    await fake.waitFor(() => bot.count(/mattermost: connected as/) > n, 15000);
    await fake.waitFor(() => fake.posts.length === 1, 10000);
    assert.equal(fake.posts[0].channel_id, 'dmnew');
    assert.ok(fake.requests.some((r) => r.path === '/api/v4/users/me/channels'));
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test('more than a page said while the socket was down: the catch-up reads back to the oldest', async () => {
  const fake = await startFakeMattermost({ token: TOKEN });
  const bot = await startBot(fake);
  try {
    await ask(fake, '@planbot Who drafted the plan?', { channel: 'busy' }); // planbot knows busy
    await fake.down();
    const qs = [fake.say('@planbot How big can the army be?', { channel: 'busy' })];
    for (let i = 0; i < 1500; i++) {
      fake.say(`chatter ${i}`, { channel: 'busy', user: `u${i % 7}` });
      if (i === 700) qs.push(fake.say('@planbot What did Rubio say?', { channel: 'busy' }));
    }
    qs.push(fake.say('@planbot What about NATO?', { channel: 'busy' }));
    await fake.up();
    await fake.waitFor(() => qs.every((q) => fake.posts.some((p) => p.root_id === q.id)), 20000);
    await sleep(500);
    for (const q of qs) assert.equal(fake.posts.filter((p) => p.root_id === q.id).length, 1, q.message);
    assert.equal(fake.posts.length, 1 + qs.length, 'chatter without a mention is not answered');
    assert.ok(fake.requests.some((r) => /before=/.test(r.query)), 'it paged back');
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test('a server restart is survived, and what was said while it was down is answered', async () => {
  const fake = await startFakeMattermost({ token: TOKEN });
  const bot = await startBot(fake);
  try {
    await ask(fake, '@planbot How big can the army be?');
    const n = bot.count(/mattermost: connected as/);
    await fake.down();
    await bot.waitLog(/mattermost: disconnected/);
    await sleep(1500); // planbot tries and fails meanwhile
    fake.say('@planbot What did Rubio say?'); // stored while nobody can connect
    await fake.up();
    await fake.waitFor(() => bot.count(/mattermost: connected as/) > n, 30000);
    await fake.waitFor(() => fake.posts.length === 2, 10000);
    assert.match(fake.posts[1].message, /Rubio/);
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test('a gap in the event numbers reconnects and catches up', async () => {
  const fake = await startFakeMattermost({ token: TOKEN });
  const bot = await startBot(fake);
  try {
    await ask(fake, '@planbot How big can the army be?');
    fake.skipSeq();
    fake.say('@planbot What did Rubio say?'); // arrives with a gap: planbot reconnects
    await bot.waitLog(/events \d+ to \d+ are missing; reconnecting/);
    await fake.waitFor(() => fake.posts.length === 2, 15000);
    await sleep(500);
    assert.equal(fake.posts.length, 2);
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test('a 429 storm is waited out with no reply lost or posted twice', async () => {
  const fake = await startFakeMattermost({ token: TOKEN });
  const bot = await startBot(fake);
  try {
    fake.rateLimit(3);
    const asked = ['How big can the army be?', 'What did Rubio say?', 'Would Ukraine have to leave Donetsk?'];
    for (const [i, text] of asked.entries()) fake.say(`@planbot ${text}`, { channel: `c${i}` });
    await fake.waitFor(() => fake.posts.length === 3, 20000);
    await sleep(500);
    assert.equal(fake.posts.length, 3);
    assert.deepEqual(fake.posts.map((p) => p.channel_id).sort(), ['c0', 'c1', 'c2']);
    assert.match(bot.log, /mattermost: rate limited; posting again in 1 s/);
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test('a crash between receipt and reply is answered at the next start', async () => {
  const fake = await startFakeMattermost({ token: TOKEN });
  let bot = await startBot(fake);
  const dir = bot.dir;
  try {
    fake.holdPosts = true;
    fake.say('@planbot How big can the army be?');
    await fake.waitFor(() => fake.held.length === 1);
    await bot.kill(); // recorded, never answered
    fake.holdPosts = false;
    fake.releaseHeld();
    bot = await startBot(fake, { dir });
    await fake.waitFor(() => fake.posts.length === 1, 15000);
    assert.match(fake.posts[0].message, /600,000/);
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test('hostile markup notifies no one and a refused token stops planbot', async () => {
  const fake = await startFakeMattermost({ token: TOKEN });
  const bot = await startBot(fake);
  try {
    const { reply } = await ask(fake, '@planbot @channel @all @here @alice what is kb?', { channel: 'dmx', type: 'D' });
    assert.doesNotMatch(reply.message, /@(channel|all|here|alice)\b/);
  } finally {
    await bot.stop();
  }
  fake.refuseToken = true;
  const refused = await startBot(fake, { waitConnected: false });
  const r = await refused.done;
  assert.notEqual(r.code, 0);
  assert.match(refused.log, /Mattermost refused the token \(MATTERMOST_TOKEN\)/);
  assert.ok(!refused.log.includes(TOKEN));
  await fake.close();
});

test('one process serves Slack and Mattermost at once, with one knowledge base and inbox', async () => {
  const { startFakeSlack } = require('../slack/fake_slack');
  const slack = await startFakeSlack({ appToken: 'xapp-1-A1-multi', botToken: 'xoxb-multi' });
  const mm = await startFakeMattermost({ token: TOKEN });
  const bot = await startPlanbot(slack, {
    tmp,
    appToken: 'xapp-1-A1-multi',
    botToken: 'xoxb-multi',
    config: { platforms: ['slack', 'mattermost'], moderators: { mattermost: [MODERATOR] }, slack: { pace_ms: 0 }, mattermost: { pace_ms: 0 } },
    env: { MATTERMOST_URL: mm.url, MATTERMOST_TOKEN: TOKEN },
    waitConnected: true,
  });
  try {
    await bot.waitLog(/mattermost: connected as @planbot/);
    // a moderator on Mattermost teaches; the Slack user's question finds it
    await ask(mm, 'kb teach "how many soldiers may Kyiv keep" army-cap', { user: MODERATOR, channel: 'dmmod', type: 'D' });
    slack.event({ type: 'app_mention', user: 'U2', channel: 'C1', text: '<@UBOT> how many soldiers may Kyiv keep' });
    await slack.waitFor(() => slack.posts.length === 1, 10000);
    assert.match(slack.posts[0].text, /600,000/);
    const { reply } = await ask(mm, '@planbot What did Rubio say?');
    assert.match(reply.message, /Rubio/);
  } finally {
    await bot.stop();
    assert.ok(!bot.log.includes(TOKEN));
    await mm.close();
    await slack.close();
  }
});
