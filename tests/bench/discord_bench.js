// discord_bench.js - planbot through the fake Discord, beside the smallest discord.js bot
// (discord_peer.js, which replies "ok" and looks nothing up) on the same fake in the same run:
// the time from a MESSAGE_CREATE sent on the Gateway to its reply's POST received, questions per
// second with a window in flight over 50 direct-message channels, each bot's CPU per 1,000
// questions in that run, and its peak memory. Discord's own rate limits (5 posts a channel in 5 s,
// 50 requests a second in all) are lifted on the fake and in both bots, so that what is measured
// is the bots, not the limits. Measures, never fails on a figure.
//
//   node tests/bench/discord_bench.js PLANBOT QUESTIONS.txt [LATENCY_N] [THROUGHPUT_N]
//
// Prints "key value" lines (for run.sh) on stdout: planbot's, then the peer's with "peer_".
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { peakKiB, cpuMs, percentile } = require('./proc');
const { startFakeDiscord, BOT_ID } = require('../discord/fake_discord');

const [planbot, questionsFile, latencyArg, throughputArg] = process.argv.slice(2);
if (!planbot || !questionsFile) {
  console.error('usage: discord_bench.js PLANBOT QUESTIONS.txt [LATENCY_N] [THROUGHPUT_N]');
  process.exit(2);
}
const LATENCY_N = Number(latencyArg || 2000);
const THROUGHPUT_N = Number(throughputArg || 10000);
const WINDOW = 64;
const CHANNELS = 50;
const TOKEN = 'discord-bench-token';

const questions = fs.readFileSync(questionsFile, 'utf8').split('\n')
  .map((l) => l.split('\t')[0].trim()).filter((l) => l && !l.startsWith('#'));
const users = Array.from({ length: CHANNELS }, (_, i) => ({ id: String(6200000000000000000n + BigInt(i)), username: `asker${i}` }));

// Runs one bot (argv, env) against a fresh fake; resolves to its figures.
async function measure(argv, env, tmp) {
  const fake = await startFakeDiscord({ token: TOKEN, heartbeatInterval: 41250, bucket: { limit: 1e9, windowMs: 1000 }, globalPerSecond: 1e9 });
  const child = spawn(argv[0], argv.slice(1), {
    env: { PATH: process.env.PATH, HOME: tmp, DISCORD_API_URL: `${fake.url}/api`, DISCORD_TOKEN: TOKEN, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const waiting = new Map(); // question id -> resolve
  fake.on('post', (m) => {
    const done = m.message_reference && waiting.get(m.message_reference.message_id);
    if (done) {
      waiting.delete(m.message_reference.message_id);
      done(process.hrtime.bigint());
    }
  });
  await fake.waitFor(() => fake.identifies > 0 && [...fake.sessions.values()].some((s) => s.ws), 30000);
  await new Promise((r) => setTimeout(r, 500)); // GUILD_CREATE and the like, for discord.js
  let n = 0;
  const askOne = (i) => {
    const text = questions[n++ % questions.length];
    const t0 = process.hrtime.bigint();
    const q = fake.dm(text, { user: users[i % CHANNELS] });
    return new Promise((resolve) => waiting.set(q.id, (t1) => resolve(Number(t1 - t0) / 1000)));
  };
  for (let i = 0; i < 200; i++) await askOne(i);
  const lat = [];
  for (let i = 0; i < LATENCY_N; i++) lat.push(await askOne(i));
  lat.sort((a, b) => a - b);
  const cpu0 = cpuMs(child.pid);
  const start = process.hrtime.bigint();
  await new Promise((resolve) => {
    let sent = 0;
    let done = 0;
    const next = () => {
      if (sent >= THROUGHPUT_N) return;
      askOne(sent++).then(() => {
        if (++done === THROUGHPUT_N) resolve();
        else next();
      });
    };
    for (let i = 0; i < WINDOW; i++) next();
  });
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = cpuMs(child.pid) - cpu0;
  const peak = peakKiB(child.pid);
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  const figures = {
    p50_us: Math.round(percentile(lat, 50)),
    p99_us: Math.round(percentile(lat, 99)),
    max_us: Math.round(lat[lat.length - 1]),
    qps: Math.round(THROUGHPUT_N / secs),
    cpu_ms_per_1000: ((cpu * 1000) / THROUGHPUT_N).toFixed(0),
    peak_rss_kb: peak,
    violations: fake.violations,
  };
  await fake.close();
  return figures;
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'planbot-discord-bench-'));
  const cfg = path.join(tmp, 'planbot.json');
  fs.writeFileSync(cfg, JSON.stringify({ platform: 'discord', log_level: 'warn', discord: { pace_ms: 0, global_per_second: 0 }, flood_limit: { messages: 0, seconds: 60 } }));
  const mine = await measure([planbot, '--config', cfg, '--db', path.join(tmp, 'kb.db'), 'run'], {}, tmp);
  console.log(`latency_n ${LATENCY_N}`);
  console.log(`throughput_n ${THROUGHPUT_N}`);
  console.log(`window ${WINDOW}`);
  for (const [k, v] of Object.entries(mine)) console.log(`${k} ${v}`);
  if (process.env.DISCORD_BENCH_PEER !== '0') {
    const peer = await measure([process.execPath, path.join(__dirname, 'discord_peer.js')], {}, tmp);
    for (const [k, v] of Object.entries(peer)) console.log(`peer_${k} ${v}`);
  }
  fs.rmSync(tmp, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
