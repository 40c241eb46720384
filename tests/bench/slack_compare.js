// slack_compare.js - planbot and the Bolt peer side by side, through the same fake Slack, in one
// run: bursts of questions, and for each bot its CPU per question, its peak memory and how fast
// it answers a burst. planbot is measured with 0, 200,000 and 1,000,000 settled questions already
// in its inbox (and 10,000 declined questions in its unanswered list), to show that the cost of
// answering does not grow with history. Measures, never fails on a figure.
//
//   node tests/bench/slack_compare.js --planbot PLANBOT --seed BENCH_SEED --questions FILE
//        [--peer DIR] [--histories 0,200000,1000000] [--unanswered 10000] [--burst 5000]
//        [--rounds 25] [--baseline OTHER_PLANBOT] [--variants PLANBOT,PLANBOT...]
//
// --seed names bench_seed, which gives each knowledge base its history. --peer names the
// Bolt peer's folder (../shared/peers/bolt, after `npm ci --prefix` it); without it, or when its
// packages are missing, the peer is skipped and the report says so. --baseline names another
// planbot binary (an earlier build) to measure in the same run, with no history, as "baseline_*":
// a change's effect is then read from one run, paired, not from runs on different minutes.
// --variants names more binaries (or scripts that exec one) measured the same way, as
// "variant1_*", "variant2_*", ...: several candidate builds or settings side by side. Prints "key value" lines
// (for run.sh) on stdout, then nothing else; progress goes to stderr.
'use strict';

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { peakKiB } = require('./proc');
const { startFakeSlack } = require('../slack/fake_slack');

function parseArgs(argv) {
  const o = { histories: '0,200000,1000000', unanswered: '10000', burst: '5000', rounds: '25' };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '');
    if (!(k in o) && !['planbot', 'seed', 'questions', 'peer', 'baseline', 'variants'].includes(k)) throw new Error(`unknown option ${argv[i]}`);
    o[k] = argv[i + 1];
  }
  if (!o.planbot || !o.seed || !o.questions) {
    throw new Error('usage: slack_compare.js --planbot PLANBOT --seed BENCH_SEED --questions FILE [--peer DIR] ...');
  }
  return o;
}

const args = parseArgs(process.argv.slice(2));
const HISTORIES = args.histories.split(',').map(Number);
const UNANSWERED = Number(args.unanswered);
const VARIANTS = args.variants ? args.variants.split(',').filter(Boolean) : [];
const BURST = Number(args.burst);
const ROUNDS = Number(args.rounds);
const WARM = 300;
const CHANNELS = 50;
const APP = 'xapp-1-bench';
const BOT = 'xoxb-bench';
const TICK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

const questions = fs.readFileSync(args.questions, 'utf8').split('\n')
  .map((l) => l.split('\t')[0].trim()).filter((l) => l && !l.startsWith('#'));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// CPU time of a process and all its threads so far, in ms: [user, system] (/proc/PID/stat).
function cpuMs(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [(Number(f[11]) * 1000) / TICK, (Number(f[12]) * 1000) / TICK];
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

// Sends n questions at once over CHANNELS channels and resolves when every one has its reply.
function burst(fake, n, waiting, counter) {
  return new Promise((resolve) => {
    let left = n;
    for (let i = 0; i < n; i++) {
      const q = questions[counter.n++ % questions.length];
      const channel = `C${i % CHANNELS}`;
      const ev = fake.event({ type: 'app_mention', user: `U${i % 500}`, channel, text: `<@UBOT> ${q}` });
      waiting.set(`${channel} ${ev.ts}`, () => {
        if (--left === 0) resolve();
      });
    }
  });
}

// Starts a bot against a fake of its own and warms it up.
async function launch(name, start) {
  const fake = await startFakeSlack({ appToken: APP, botToken: BOT, ackTimeoutMs: 600000 });
  const bot = { name, fake, waiting: new Map(), counter: { n: 0 }, rounds: [], exited: null };
  fake.on('post', (p) => {
    const done = bot.waiting.get(`${p.channel} ${p.thread_ts}`);
    if (done) {
      bot.waiting.delete(`${p.channel} ${p.thread_ts}`);
      done();
    }
  });
  bot.child = start(fake);
  bot.child.on('exit', (code, signal) => { bot.exited = { code, signal }; });
  const end = Date.now() + 30000;
  while (!(fake.stats().sockets || []).some((x) => x.hello)) {
    if (bot.exited || Date.now() > end) throw new Error(`${name} did not connect (${JSON.stringify(bot.exited)})`);
    await sleep(20);
  }
  await burst(fake, WARM, bot.waiting, bot.counter);
  return bot;
}

// Times one burst of a bot.
async function round(bot) {
  const cpu0 = cpuMs(bot.child.pid);
  const t0 = process.hrtime.bigint();
  await burst(bot.fake, BURST, bot.waiting, bot.counter);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu1 = cpuMs(bot.child.pid);
  const user = cpu1[0] - cpu0[0];
  const sys = cpu1[1] - cpu0[1];
  bot.rounds.push({ qps: BURST / secs, cpuPer1000: ((user + sys) * 1000) / BURST, sysPer1000: (sys * 1000) / BURST });
}

// Stops a bot and sums up its rounds: the medians.
async function finish(bot) {
  const peak = peakKiB(bot.child.pid);
  const { unacked } = bot.fake.stats();
  bot.child.kill('SIGTERM');
  await new Promise((r) => (bot.exited ? r() : bot.child.on('exit', r)));
  await bot.fake.close();
  const res = {
    qps: Math.round(median(bot.rounds.map((x) => x.qps))),
    cpu: median(bot.rounds.map((x) => x.cpuPer1000)),
    sys: median(bot.rounds.map((x) => x.sysPer1000)),
    peakKiB: peak,
    unacked,
  };
  process.stderr.write(`${bot.name}: ${res.qps} questions/s, ${res.cpu.toFixed(0)} ms CPU per 1,000 (${res.sys.toFixed(0)} in the kernel), peak ${(peak / 1024).toFixed(1)} MiB\n`);
  return res;
}

function planbotStarter(dir, exe = args.planbot) {
  return (fake) => spawn(exe, ['--config', path.join(dir, 'planbot.json'), '--db', path.join(dir, 'kb.db'), 'run'], {
    env: { PATH: process.env.PATH, HOME: dir, SLACK_API_URL: fake.apiUrl, SLACK_APP_TOKEN: APP, SLACK_BOT_TOKEN: BOT },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

function peerStarter(dir) {
  return (fake) => spawn(path.join(dir, 'run-peer'), [], {
    env: { PATH: process.env.PATH, HOME: os.tmpdir(), SLACK_API_URL: fake.apiUrl, SLACK_APP_TOKEN: APP, SLACK_BOT_TOKEN: BOT },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'planbot-compare-'));
  const out = [`burst ${BURST}`, `rounds ${ROUNDS}`, `unanswered ${UNANSWERED}`];
  const bots = [];
  try {
    const peerOk = args.peer && fs.existsSync(path.join(args.peer, 'node_modules', '@slack', 'bolt'));
    if (!peerOk) out.push(`peer_skipped ${args.peer ? `no node_modules in ${args.peer}` : 'no --peer'}`);
    const kbs = HISTORIES.map((h) => `planbot-${h}`);
    if (args.baseline) kbs.push('baseline');
    VARIANTS.forEach((_, i) => kbs.push(`variant${i + 1}`));
    for (const name of kbs) {
      const h = name.startsWith('planbot-') ? Number(name.slice('planbot-'.length)) : 0;
      const dir = path.join(tmp, name);
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'planbot.json'), JSON.stringify({
        platform: 'slack', log_level: 'warn', slack: { pace_ms: 0 }, flood_limit: { messages: 0, seconds: 60 },
      }));
      process.stderr.write(`seeding ${h} settled questions and ${UNANSWERED} declined ones ...\n`);
      execFileSync(args.seed, ['--db', path.join(dir, 'kb.db'), '--inbox', String(h), '--unanswered', String(UNANSWERED)], { stdio: ['ignore', 'ignore', 'inherit'] });
    }
    // every bot runs at once, each with its fake; the rounds take turns, so that whatever else
    // the machine does meanwhile falls on all of them alike
    if (peerOk) bots.push({ key: 'peer', bot: await launch('bolt peer', peerStarter(args.peer)) });
    for (const h of HISTORIES) {
      bots.push({ key: `planbot_${h}`, bot: await launch(`planbot, ${h} in the inbox`, planbotStarter(path.join(tmp, `planbot-${h}`))) });
    }
    if (args.baseline) {
      bots.push({ key: 'baseline', bot: await launch('baseline planbot', planbotStarter(path.join(tmp, 'baseline'), args.baseline)) });
    }
    for (const [i, exe] of VARIANTS.entries()) {
      const key = `variant${i + 1}`;
      bots.push({ key, bot: await launch(`${key} (${exe})`, planbotStarter(path.join(tmp, key), exe)) });
    }
    await sleep(300);
    for (let r = 0; r < ROUNDS; r++) {
      for (const b of bots) {
        await round(b.bot);
        await sleep(100);
      }
    }
    for (const b of bots) {
      const r = await finish(b.bot);
      out.push(`${b.key}_qps ${r.qps}`, `${b.key}_cpu_ms_per_1000 ${r.cpu.toFixed(1)}`,
        `${b.key}_sys_ms_per_1000 ${r.sys.toFixed(1)}`, `${b.key}_peak_rss_kb ${r.peakKiB}`,
        `${b.key}_unacked ${r.unacked}`);
    }
  } finally {
    for (const b of bots) if (!b.bot.exited) b.bot.child.kill('SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  console.log(out.join('\n'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
