// mattermost_bench.js - planbot through the fake Mattermost: the time from a post's event sent on
// the socket to the reply's POST /api/v4/posts received, questions per second with a window in
// flight, planbot's CPU per 1,000 questions in that run, and its peak memory. Pacing off.
// Measures, never fails on a figure.
//
//   node tests/bench/mattermost_bench.js PLANBOT QUESTIONS.txt [LATENCY_N] [THROUGHPUT_N]
//
// Prints "key value" lines (for run.sh) on stdout.
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { peakKiB, cpuMs, percentile } = require('./proc');
const { startFakeMattermost } = require('../mattermost/fake_mattermost');

const [planbot, questionsFile, latencyArg, throughputArg] = process.argv.slice(2);
if (!planbot || !questionsFile) {
  console.error('usage: mattermost_bench.js PLANBOT QUESTIONS.txt [LATENCY_N] [THROUGHPUT_N]');
  process.exit(2);
}
const LATENCY_N = Number(latencyArg || 3000);
const THROUGHPUT_N = Number(throughputArg || 10000);
const WINDOW = 64;
const CHANNELS = 50;
const TOKEN = 'mm-bench-token';

const questions = fs.readFileSync(questionsFile, 'utf8').split('\n')
  .map((l) => l.split('\t')[0].trim()).filter((l) => l && !l.startsWith('#'));

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'planbot-mm-bench-'));
  const fake = await startFakeMattermost({ token: TOKEN });
  const cfg = path.join(tmp, 'planbot.json');
  fs.writeFileSync(cfg, JSON.stringify({ platform: 'mattermost', log_level: 'warn', mattermost: { pace_ms: 0 }, flood_limit: { messages: 0, seconds: 60 } }));
  const child = spawn(planbot, ['--config', cfg, '--db', path.join(tmp, 'kb.db'), 'run'], {
    env: { PATH: process.env.PATH, HOME: tmp, MATTERMOST_URL: fake.url, MATTERMOST_TOKEN: TOKEN },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await fake.waitFor(() => fake.connected() > 0, 10000);

  const waiting = new Map(); // root_id -> resolve
  fake.onPost = (p) => {
    const done = waiting.get(p.root_id);
    if (done) {
      waiting.delete(p.root_id);
      done(process.hrtime.bigint());
    }
  };
  let n = 0;
  function askOne(channel) {
    const text = questions[n++ % questions.length];
    const t0 = process.hrtime.bigint();
    const q = fake.say(`@planbot ${text}`, { channel });
    return new Promise((resolve) => waiting.set(q.id, (t1) => resolve(Number(t1 - t0) / 1000)));
  }

  for (let i = 0; i < 200; i++) await askOne('warm');
  const lat = [];
  for (let i = 0; i < LATENCY_N; i++) lat.push(await askOne(`c${i % CHANNELS}`));
  lat.sort((a, b) => a - b);

  const cpu0 = cpuMs(child.pid);
  const start = process.hrtime.bigint();
  let sent = 0;
  await new Promise((resolve) => {
    let done = 0;
    const next = () => {
      if (sent >= THROUGHPUT_N) return;
      const ch = `c${sent % CHANNELS}`;
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
  const cpu = cpuMs(child.pid) - cpu0;
  const peak = peakKiB(child.pid);

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
  console.log(`cpu_ms_per_1000 ${((cpu * 1000) / THROUGHPUT_N).toFixed(0)}`);
  console.log(`peak_rss_kb ${peak}`);
  console.log(`posts ${fake.posts.length}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
