// slack_bench.js - planbot through the fake Slack: questions per second, and the time from an
// envelope sent on the socket to the reply's chat.postMessage received, with pacing off; and
// planbot's peak memory meanwhile. Measures, never fails on a figure.
//
//   node tests/bench/slack_bench.js PLANBOT QUESTIONS.txt [LATENCY_N] [THROUGHPUT_N]
//
// Prints "key value" lines (for run.sh) on stdout.
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { peakKiB, percentile } = require('./proc');
const { startFakeSlack } = require('../slack/fake_slack');

const [planbot, questionsFile, latencyArg, throughputArg] = process.argv.slice(2);
if (!planbot || !questionsFile) {
  console.error('usage: slack_bench.js PLANBOT QUESTIONS.txt [LATENCY_N] [THROUGHPUT_N]');
  process.exit(2);
}
const LATENCY_N = Number(latencyArg || 3000);
const THROUGHPUT_N = Number(throughputArg || 10000);
const WINDOW = 64; // questions in flight in the throughput run
const CHANNELS = 50;

const questions = fs.readFileSync(questionsFile, 'utf8').split('\n')
  .map((l) => l.split('\t')[0].trim()).filter((l) => l && !l.startsWith('#'));

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'planbot-slack-bench-'));
  const fake = await startFakeSlack({ appToken: 'xapp-1-bench', botToken: 'xoxb-bench', ackTimeoutMs: 60000 });
  const cfg = path.join(tmp, 'planbot.json');
  fs.writeFileSync(cfg, JSON.stringify({ platform: 'slack', log_level: 'warn', slack: { pace_ms: 0 }, flood_limit: { messages: 0, seconds: 60 } }));
  const child = spawn(planbot, ['--config', cfg, '--db', path.join(tmp, 'kb.db'), 'run'], {
    env: { PATH: process.env.PATH, HOME: tmp, SLACK_API_URL: fake.apiUrl, SLACK_APP_TOKEN: 'xapp-1-bench', SLACK_BOT_TOKEN: 'xoxb-bench' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await fake.waitFor(() => fake.stats().socketsOpen > 0 && fake.stats().authTests > 0, 10000);
  await new Promise((r) => setTimeout(r, 200)); // hello

  const waiting = new Map(); // "channel thread_ts" -> resolve
  fake.on('post', (p) => {
    const key = `${p.channel} ${p.thread_ts}`;
    const done = waiting.get(key);
    if (done) {
      waiting.delete(key);
      done(process.hrtime.bigint());
    }
  });
  let n = 0;
  function askOne(channel) {
    const q = questions[n++ % questions.length];
    const t0 = process.hrtime.bigint();
    const ev = fake.event({ type: 'app_mention', user: 'U2', channel, text: `<@UBOT> ${q}` });
    return new Promise((resolve) => waiting.set(`${channel} ${ev.ts}`, (t1) => resolve(Number(t1 - t0) / 1000)));
  }

  for (let i = 0; i < 200; i++) await askOne('CWARM'); // warm caches

  const lat = [];
  for (let i = 0; i < LATENCY_N; i++) lat.push(await askOne(`C${i % CHANNELS}`));
  lat.sort((a, b) => a - b);

  const start = process.hrtime.bigint();
  let sent = 0;
  await new Promise((resolve) => {
    let done = 0;
    const next = () => {
      if (sent >= THROUGHPUT_N) return;
      const ch = `C${sent % CHANNELS}`;
      sent++;
      askOne(ch).then(() => {
        done++;
        if (done === THROUGHPUT_N) resolve();
        else next();
      });
    };
    for (let i = 0; i < WINDOW; i++) next();
  });
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  const peak = peakKiB(child.pid);
  const lost = fake.stats().unacked;

  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  await fake.close();
  fs.rmSync(tmp, { recursive: true, force: true });

  console.log(`latency_n ${LATENCY_N}`);
  console.log(`p50_us ${Math.round(percentile(lat, 50))}`);
  console.log(`p99_us ${Math.round(percentile(lat, 99))}`);
  console.log(`max_us ${Math.round(lat[lat.length - 1])}`);
  console.log(`throughput_n ${THROUGHPUT_N}`);
  console.log(`window ${WINDOW}`);
  console.log(`qps ${Math.round(THROUGHPUT_N / secs)}`);
  console.log(`peak_rss_kb ${peak}`);
  console.log(`posts ${fake.posts.length}`);
  console.log(`unacked ${lost}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
