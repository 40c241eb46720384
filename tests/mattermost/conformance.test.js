// conformance.test.js - the fake Mattermost against Mattermost's own client library
// (@mattermost/client: Client4 for REST, WebSocketClient for the socket): they sign in, receive a
// posted event, post a reply in its thread, list the bot's channels, read a channel's history,
// and are refused a bad
// token, so the fake speaks the protocol planbot is tested with.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const WebSocket = require('ws');
const { Client4, WebSocketClient } = require('@mattermost/client');
const { startFakeMattermost, BOT_ID } = require('./fake_mattermost');

// WebSocketClient reads the globals WebSocket and CloseEvent, which Node 18 and 20 lack.
globalThis.WebSocket = globalThis.WebSocket || WebSocket;
globalThis.CloseEvent = globalThis.CloseEvent || class CloseEvent extends Event {
  constructor(type, init = {}) { super(type); this.code = init.code; this.reason = init.reason; }
};

const TOKEN = 'mm-conformance-token';

test('Client4 signs in, posts in a thread and reads the history', async () => {
  const fake = await startFakeMattermost({ token: TOKEN });
  try {
    const c = new Client4();
    c.setUrl(fake.url);
    c.setToken(TOKEN);
    const me = await c.getMe();
    assert.equal(me.id, BOT_ID);
    assert.equal(me.username, 'planbot');
    const q = fake.say('@planbot hi', { channel: 'chan1' });
    const reply = await c.createPost({ channel_id: 'chan1', message: 'hello', root_id: q.id });
    assert.equal(reply.root_id, q.id);
    assert.equal(fake.posts.length, 1);
    assert.match(fake.requests.at(-1).headers.authorization, /^bearer /i);
    const chans = await c.getAllTeamsChannels(); // GET users/me/channels, as planbot's catch-up
    assert.ok(chans.some((ch) => ch.id === 'chan1' && ch.type === 'O'));
    const page = await c.getPostsSince('chan1', q.create_at);
    assert.deepEqual(Object.keys(page.posts).sort(), [q.id, reply.id].sort());
    const bad = new Client4();
    bad.setUrl(fake.url);
    bad.setToken('wrong');
    await assert.rejects(bad.getMe(), (e) => e.status_code === 401 && e.server_error_id === 'api.context.session_expired.app_error');
  } finally {
    await fake.close();
  }
});

test('WebSocketClient authenticates, gets hello and a posted event with the post inside', async () => {
  const fake = await startFakeMattermost({ token: TOKEN });
  const ws = new WebSocketClient({ newWebSocketFn: (u) => new WebSocket(u) });
  try {
    const events = [];
    ws.addMessageListener((m) => events.push(m));
    ws.initialize(`ws://127.0.0.1:${fake.port}/api/v4/websocket`, TOKEN);
    await fake.waitFor(() => events.some((m) => m.event === 'hello'));
    assert.equal(events.find((m) => m.event === 'hello').seq, 0);
    const q = fake.say('@planbot how big can the army be?', { channel: 'chan1' });
    await fake.waitFor(() => events.some((m) => m.event === 'posted'));
    const posted = events.find((m) => m.event === 'posted');
    assert.equal(posted.seq, 1);
    const post = JSON.parse(posted.data.post);
    assert.equal(post.id, q.id);
    assert.deepEqual(JSON.parse(posted.data.mentions), [BOT_ID]);
    assert.ok(fake.frames.some((f) => JSON.parse(f).action === 'authentication_challenge'));
  } finally {
    ws.close();
    await fake.close();
  }
});
