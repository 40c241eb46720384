// flood.test.js - the per-user flood limit end to end, planbot against the fake Slack: a user
// over the limit gets one notice and then silence, while everyone else is still answered; help
// and moderators' commands count too. Run: PLANBOT=build/planbot node --test tests/slack/flood.test.js
'use strict';

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startFakeSlack } = require('./fake_slack');
const { startPlanbot, sleep } = require('./planbot');

const APP_TOKEN = 'xapp-1-A1-flood-secret-app';
const BOT_TOKEN = 'xoxb-flood-secret-bot';
const MODERATOR = 'UMOD';
const NOTICE = /^You're sending messages faster than I can answer \(more than 3 a minute\); I'll answer again in a moment\.$/;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'planbot-flood-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

// Starts planbot against fake: 3 messages a minute per user, pacing off, one moderator.
function startBot(fake) {
  return startPlanbot(fake, {
    tmp,
    appToken: APP_TOKEN,
    botToken: BOT_TOKEN,
    config: {
      moderators: { slack: [MODERATOR] },
      slack: { pace_ms: 0 },
      flood_limit: { messages: 3, seconds: 60 },
    },
  });
}

// Sends n mentions from user at once; returns their events.
function burst(fake, user, texts) {
  return texts.map((text) => fake.event({ user, channel: 'C1', text: `<@UBOT> ${text}` }));
}

// Waits until every event sent so far is acknowledged and each dropped message is logged, then a
// little longer, so that a post that should not come has had its chance.
async function settle(fake, bot, acks, drops) {
  await fake.waitFor(() => fake.stats().acks >= acks, 10000);
  await bot.waitLog(new RegExp(`(?:dropped a message from U\\w+: over the flood limit[^]*){${drops}}`));
  await sleep(500);
}

test('ten quick mentions: three answers and one notice, and another user is still answered', async () => {
  const fake = await startFakeSlack({ appToken: APP_TOKEN, botToken: BOT_TOKEN });
  const bot = await startBot(fake);
  try {
    const evs = burst(fake, 'U2', Array(10).fill('How big can Ukraine\'s army be?'));
    await fake.waitForPosts(4, 10000);
    await settle(fake, bot, 10, 6);
    const posts = fake.posts.slice();
    assert.equal(posts.length, 4, JSON.stringify(posts.map((p) => p.text)));
    // the first three are answered, each in its own thread; the fourth gets the notice
    for (let i = 0; i < 3; i++) {
      assert.equal(posts[i].thread_ts, evs[i].ts);
      assert.match(posts[i].text, /600,000 personnel/);
    }
    assert.equal(posts[3].thread_ts, evs[3].ts);
    assert.match(posts[3].text, NOTICE);
    assert.equal(bot.count(/U2 sent more than 3 messages in 60 s; sent one notice/), 1);
    assert.equal(bot.count(/dropped a message from U2: over the flood limit/), 6);
    // nothing is left for Slack to deliver again: dropped messages were acknowledged
    assert.equal(fake.stats().unacked, 0);

    // another user in the same channel is answered at once
    const other = fake.event({ user: 'U3', channel: 'C1', text: '<@UBOT> Who drafted the plan?' });
    await fake.waitForPosts(5, 10000);
    assert.equal(fake.posts[4].thread_ts, other.ts);
    assert.doesNotMatch(fake.posts[4].text, NOTICE);
    // and the flooding user is still silenced, with no second notice
    burst(fake, 'U2', ['What about NATO?']);
    await settle(fake, bot, 12, 7);
    assert.equal(fake.posts.length, 5);
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test('help and moderators\' commands count against the limit too', async () => {
  const fake = await startFakeSlack({ appToken: APP_TOKEN, botToken: BOT_TOKEN });
  const bot = await startBot(fake);
  try {
    burst(fake, 'U4', Array(6).fill('help'));
    await fake.waitForPosts(4, 10000);
    await settle(fake, bot, 6, 2);
    const help = fake.posts.slice();
    assert.equal(help.length, 4);
    help.slice(0, 3).forEach((p) => assert.match(p.text, /sources/));
    assert.match(help[3].text, NOTICE);

    // a moderator has the same limit
    burst(fake, MODERATOR, Array(5).fill('kb show army-cap'));
    await fake.waitForPosts(8, 10000);
    await settle(fake, bot, 11, 3);
    const mod = fake.posts.slice(4);
    assert.equal(mod.length, 4);
    mod.slice(0, 3).forEach((p) => assert.match(p.text, /army-cap/));
    assert.match(mod[3].text, NOTICE);
  } finally {
    await bot.stop();
    await fake.close();
  }
});
