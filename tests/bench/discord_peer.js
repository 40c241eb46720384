// discord_peer.js - the smallest discord.js bot there is, for discord_bench.js to measure planbot
// against: it replies "ok" to every direct message and every mention, as a reply that pings no
// one, and looks nothing up. Whatever a real discord.js bot does besides, it costs at least this.
//
//   DISCORD_API_URL=http://127.0.0.1:PORT/api DISCORD_TOKEN=... node tests/bench/discord_peer.js
'use strict';

const { Client, GatewayIntentBits, Partials } = require('discord.js');

const client = new Client({
  intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.DirectMessages, GatewayIntentBits.MessageContent],
  partials: [Partials.Channel],
  // the benchmark lifts Discord's global limit on the fake: the client must not keep its own
  rest: { api: process.env.DISCORD_API_URL, globalRequestsPerSecond: 1e6 },
});
client.on('messageCreate', (m) => {
  if (m.author.bot || m.webhookId) return;
  if (m.guildId && !m.mentions.users.has(client.user.id)) return;
  m.reply({ content: 'ok', allowedMentions: { parse: [], repliedUser: false } }).catch((e) => console.error(`discord_peer: ${e.message}`));
});
client.once('clientReady', () => console.log('discord_peer: ready'));
client.login(process.env.DISCORD_TOKEN);
process.on('SIGTERM', () => client.destroy().then(() => process.exit(0)));
