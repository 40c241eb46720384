// slack_soak.js - the soak benchmark: many questions through the fake Slack while faults are
// injected at random (socket refreshes and warnings, dropped sockets, 429 bursts), then counts
// what was answered, lost (no reply) and duplicated (more than one reply), and planbot's memory
// at the start and at the end. Measures; the exit status is 1 only when a question was lost or
// answered twice.
//
//   node tests/bench/slack_soak.js PLANBOT QUESTIONS.txt [N] [SEED]
//
// Prints "key value" lines on stdout, progress on stderr.
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startFakeSlack } = require('../slack/fake_slack');

const [planbot, questionsFile, nArg, seedArg] = process.argv.slice(2);
if (!planbot || !questionsFile) {
  console.error('usage: slack_soak.js PLANBOT QUESTIONS.txt [N] [SEED]');
  process.exit(2);
}
const N = Number(nArg || 100000);
const WINDOW = 64;
const CHANNELS = 50;
const FAULT_EVERY_MS = 3000; // on average; Slack itself refreshes a socket every few hours
let seed = Number(seedArg || 1);
const rand = () => { // xorshift, so a run can be repeated
  seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
  return ((seed >>> 0) % 1000000) / 1000000;
};

const questions = fs.readFileSync(questionsFile, 'utf8').split('\n')
  .map((l) => l.split('\t')[0].trim()).filter((l) => l && !l.startsWith('#'));

function rssKiB(pid, key) {
  const m = new RegExp(`${key}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'planbot-soak-'));
  const fake = await startFakeSlack({ appToken: 'xapp-1-soak', botToken: 'xoxb-soak', ackTimeoutMs: 3000 });
  const cfg = path.join(tmp, 'planbot.json');
  fs.writeFileSync(cfg, JSON.stringify({
    platform: 'slack', log_level: 'warn', slack: { pace_ms: 0 }, flood_limit: { messages: 0, seconds: 60 },
  }));
  const child = spawn(planbot, ['--config', cfg, '--db', path.join(tmp, 'kb.db'), 'run'], {
    env: { PATH: process.env.PATH, HOME: tmp, SLACK_API_URL: fake.apiUrl, SLACK_APP_TOKEN: 'xapp-1-soak', SLACK_BOT_TOKEN: 'xoxb-soak' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (d) => { log += d; if (log.length > 1e6) log = log.slice(-5e5); });
  // a minute: under valgrind (tests/valgrind.sh), beside other tests, planbot starts slowly
  await fake.waitFor(() => fake.stats().socketsOpen > 0, 60000);
  await sleep(300);

  const replies = new Map(); // "channel ts" -> posts seen
  const waiting = new Map(); // "channel ts" -> resolve
  fake.on('post', (p) => {
    const key = `${p.channel} ${p.thread_ts}`;
    replies.set(key, (replies.get(key) || 0) + 1);
    const done = waiting.get(key);
    if (done) {
      waiting.delete(key);
      done();
    }
  });

  // warm up, then the memory at the start
  for (let i = 0; i < 500; i++) {
    const ev = fake.event({ user: 'UWARM', channel: 'CWARM', text: `<@UBOT> ${questions[i % questions.length]}` });
    await new Promise((resolve) => waiting.set(`CWARM ${ev.ts}`, resolve));
  }
  const rssStart = rssKiB(child.pid, 'VmRSS');

  const faults = { refresh_requested: 0, warning: 0, drop: 0, ratelimit: 0 };
  let stop = false;
  const injector = (async () => {
    while (!stop) {
      await sleep(FAULT_EVERY_MS * (0.5 + rand()));
      if (stop) break;
      const r = rand();
      if (r < 0.3) { fake.disconnect('refresh_requested', { closeAfterMs: 2000 }); faults.refresh_requested++; }
      else if (r < 0.5) { fake.disconnect('warning', { closeAfterMs: 2000 }); faults.warning++; }
      else if (r < 0.75) { fake.drop(); faults.drop++; }
      else { fake.rateLimit(1 + Math.floor(rand() * 5), 1); faults.ratelimit++; }
    }
  })();

  const asked = [];
  const start = Date.now();
  let sent = 0;
  let done = 0;
  await new Promise((resolve) => {
    const next = () => {
      if (sent >= N) return;
      const i = sent++;
      const channel = `C${i % CHANNELS}`;
      const ev = fake.event({ user: `U${i % 500}`, channel, text: `<@UBOT> ${questions[i % questions.length]}` });
      const key = `${channel} ${ev.ts}`;
      asked.push(key);
      new Promise((r) => waiting.set(key, r)).then(() => {
        done++;
        if (done % 10000 === 0) process.stderr.write(`soak: ${done}/${N} answered, ${((Date.now() - start) / 1000).toFixed(0)} s\n`);
        if (done === N) resolve();
        else next();
      });
    };
    for (let i = 0; i < WINDOW; i++) next();
    // a question that never gets its reply would stall the window: give up after a quiet minute
    let lastDone = -1;
    const watchdog = setInterval(() => {
      if (done === lastDone) { clearInterval(watchdog); resolve(); }
      lastDone = done;
    }, 60000);
  });
  const seconds = (Date.now() - start) / 1000;
  stop = true;
  await injector;
  await sleep(3000); // late duplicates would show up here

  const rssEnd = rssKiB(child.pid, 'VmRSS');
  const peak = rssKiB(child.pid, 'VmHWM');
  let answered = 0;
  let duplicated = 0;
  for (const key of asked) {
    const n = replies.get(key) || 0;
    if (n > 0) answered++;
    if (n > 1) duplicated += n - 1;
  }
  const lost = asked.length < N ? N - answered : asked.length - answered;
  const st = fake.stats();
  child.kill('SIGTERM');
  const code = await new Promise((r) => child.on('exit', r));
  await fake.close();
  fs.rmSync(tmp, { recursive: true, force: true });

  const out = {
    questions: N, answered, lost, duplicated, seconds: seconds.toFixed(1), qps: Math.round(answered / seconds),
    rss_start_kb: rssStart, rss_end_kb: rssEnd, peak_rss_kb: peak,
    faults_refresh: faults.refresh_requested, faults_warning: faults.warning, faults_drop: faults.drop,
    faults_ratelimit: faults.ratelimit, sockets: st.socketsOpened, redeliveries: st.redeliveries,
    rate_limited: st.rateLimited, exit: code,
  };
  for (const [k, v] of Object.entries(out)) console.log(`${k} ${v}`);
  process.exit(lost || duplicated ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
