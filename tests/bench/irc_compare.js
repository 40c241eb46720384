// irc_compare.js - planbot beside the IRC bots people run today, on one real IRC network (Debian's
// inspircd with atheme, tests/irc/server.js, on 127.0.0.1): Limnoria (Debian's limnoria) with its
// Factoids plugin holding the bundled knowledge base, and errbot (Debian's errbot) with the plugin
// a team would write in an afternoon (SQLite FTS5 over the article's sentences, as the Bolt peer
// does on Slack). Each is asked the shared development questions in a channel, one at a time,
// and measured: answer quality (scored by the shared eval/score, on the replies to the questions
// asked one at a time), CPU per question (the on-CPU time of all the bot's threads,
// /proc/PID/task/*/schedstat, in nanoseconds, over bursts of all the questions at once, less what
// the bot spends idle in as long) and peak memory (VmHWM). Measures, never fails on a figure.
//
//   node tests/bench/irc_compare.js --planbot PLANBOT --questions DEV.tsv --score SCORE
//        --article ARTICLE [--rounds 5] [--bots planbot,limnoria,errbot]
//
// Prints "key value" lines (for run.sh) on stdout; progress on stderr. A bot whose program is
// missing (limnoria, errbot: apt-get install limnoria errbot) is skipped and said so.
'use strict';

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { peakKiB } = require('./proc');
const { startIrc, sleep, daemon: startDaemon, kill: stop } = require('../irc/server');

// A bot's process, its output in dir/out.out.
const daemon = (dir, argv, env) => startDaemon(dir, 'out', argv, env);
const { IrcClient } = require('../irc/client');

function parseArgs(argv) {
  const o = { rounds: '5', bots: 'planbot,limnoria,errbot' };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '');
    if (!['planbot', 'questions', 'score', 'article', 'rounds', 'bots'].includes(k)) throw new Error(`unknown option ${argv[i]}`);
    o[k] = argv[i + 1];
  }
  if (!o.planbot || !o.questions || !o.score || !o.article) {
    throw new Error('usage: irc_compare.js --planbot PLANBOT --questions DEV.tsv --score SCORE --article ARTICLE [--rounds N]');
  }
  for (const k of ['planbot', 'questions', 'score', 'article']) o[k] = path.resolve(o[k]); // the bots run elsewhere
  return o;
}

const args = parseArgs(process.argv.slice(2));
const ROUNDS = Number(args.rounds);
const CHANNEL = '#plan';
const PYTHON = '/usr/bin/python3'; // Debian's, which has Limnoria's and errbot's modules
const FIRST_LINE_MS = 2000; // a bot that says nothing in this time declined
const QUIET_MS = 500; // the answer is whole once the bot is quiet this long
const BURST_QUIET_MS = 2000; // a burst is answered once the bot is quiet this long
const IDLE_MS = 10000; // how long each bot's idle CPU is measured
const LINE_MS = 50; // every bot's pace between lines (planbot's least): no flood limit here

const questions = fs.readFileSync(args.questions, 'utf8').split('\n')
  .filter((l) => l.trim() && !l.startsWith('#')).map((l) => l.split('\t')[0]);

const say = (m) => process.stderr.write(`${m}\n`);

// Milliseconds on a CPU so far, all the threads of pid together (live ones: a bot's threads last).
function cpuMs(pid) {
  let ns = 0;
  for (const t of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(fs.readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch { /* a thread that just ended */ }
  }
  return ns / 1e6;
}

// ---- the bots ----

// planbot on the bundled knowledge base, as its README's IRC section runs it.
function startPlanbotBot(dir, port) {
  fs.writeFileSync(path.join(dir, 'planbot.json'), JSON.stringify({
    platform: 'irc', log_level: 'warn', flood_limit: { messages: 0, seconds: 60 },
    irc: { channels: [CHANNEL], nick: 'planbot', line_ms: LINE_MS, burst: 10 },
  }));
  return daemon(dir, [args.planbot, '--config', path.join(dir, 'planbot.json'), '--db', path.join(dir, 'kb.db'), 'run'],
    { IRC_URL: `irc://127.0.0.1:${port}` });
}

// Limnoria with Factoids: every bundled entry a factoid with its citation, under its id and its
// title; a question addressed to it that is no command is looked up as a key (the plugin's
// replyWhenInvalidCommand), and an unknown key gets the keys that look like it, if any. (With
// every entry's example questions as keys too, on 2026-12-07, it answered no more of the
// development questions, and spent 38 ms a question comparing them with each key.)
function startLimnoria(dir, port, entries) {
  // with channelSpecific off, every channel's factoids are in data/#/ (Limnoria's "#" link)
  for (const d of ['conf', 'data/#', 'logs', 'backup', 'tmp', 'web']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  execFileSync('supybot-adduser', ['-u', 'owner', '-p', 'ownerpass', '-c', 'owner', path.join(dir, 'conf', 'users.conf')],
    { stdio: 'ignore' });
  const facts = entries.map((e) => ({ keys: [e.id, e.title], fact: `${e.text} (Source: CNN, 20 November 2025) [${e.id}]` }));
  fs.writeFileSync(path.join(dir, 'facts.json'), JSON.stringify(facts));
  execFileSync(PYTHON, ['-c', `
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript("""CREATE TABLE keys (id INTEGER PRIMARY KEY, key TEXT UNIQUE ON CONFLICT REPLACE);
CREATE TABLE factoids (id INTEGER PRIMARY KEY, added_by TEXT, added_at TIMESTAMP, fact TEXT UNIQUE ON CONFLICT REPLACE, locked BOOLEAN);
CREATE TABLE relations (id INTEGER PRIMARY KEY, key_id INTEGER, fact_id INTEGER, usage_count INTEGER);""")
for f in json.load(open(sys.argv[2])):
    fid = db.execute("INSERT INTO factoids (added_by, added_at, fact, locked) VALUES ('owner', 0, ?, 0)", (f['fact'],)).lastrowid
    for k in f['keys']:
        kid = db.execute("INSERT INTO keys (key) VALUES (?)", (k,)).lastrowid
        db.execute("INSERT INTO relations (key_id, fact_id, usage_count) VALUES (?, ?, 0)", (kid, fid))
db.commit()
`, path.join(dir, 'data', '#', 'Factoids.db'), path.join(dir, 'facts.json')]);
  const conf = path.join(dir, 'limnoria.conf');
  fs.writeFileSync(conf, [
    'supybot.nick: limnoria', 'supybot.ident: limnoria', 'supybot.user: limnoria',
    'supybot.networks: test', `supybot.networks.test.servers: 127.0.0.1:${port}`,
    `supybot.networks.test.channels: ${CHANNEL}`, 'supybot.networks.test.ssl: False',
    `supybot.directories.conf: ${dir}/conf`, `supybot.directories.data: ${dir}/data`,
    `supybot.directories.data.tmp: ${dir}/tmp`, `supybot.directories.data.web: ${dir}/web`,
    `supybot.directories.log: ${dir}/logs`, `supybot.directories.backup: ${dir}/backup`,
    'supybot.plugins: Admin Channel Config Factoids Misc Owner User',
    'supybot.plugins.Admin: True', 'supybot.plugins.Channel: True', 'supybot.plugins.Config: True',
    'supybot.plugins.Factoids: True', 'supybot.plugins.Misc: True', 'supybot.plugins.Owner: True',
    'supybot.plugins.User: True', 'supybot.databases.plugins.channelSpecific: False',
    'supybot.abuse.flood.command: False', 'supybot.abuse.flood.command.invalid: False',
    'supybot.abuse.flood.interval: 60', 'supybot.reply.whenNotCommand: False',
    `supybot.protocols.irc.throttleTime: ${LINE_MS / 1000}`, 'supybot.log.level: WARNING',
    'supybot.log.stdout: False', 'supybot.drivers.module: default', '',
  ].join('\n'));
  return daemon(dir, ['supybot', '--allow-root', conf]);
}

// errbot with a plugin of the afternoon: SQLite FTS5 over the article's sentences, the best one
// quoted, as the Bolt peer answers on Slack.
function startErrbot(dir, port) {
  const plugins = path.join(dir, 'plugins', 'ftspeer');
  fs.mkdirSync(plugins, { recursive: true });
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
  fs.writeFileSync(path.join(plugins, 'ftspeer.plug'), `[Core]
Name = FtsPeer
Module = ftspeer

[Documentation]
Description = answers questions about the plan from the article, with SQLite FTS5

[Python]
Version = 3
`);
  fs.writeFileSync(path.join(plugins, 'ftspeer.py'), `import re, sqlite3
from errbot import BotPlugin, re_botcmd

STOP = set('a an the is are was were be to of in on at for and or what who whom which how why when where does do did will would can could should about with by it its this that there any from under into than'.split())

class FtsPeer(BotPlugin):
    def activate(self):
        super().activate()
        self.db = sqlite3.connect(':memory:', check_same_thread=False)
        self.db.execute("create virtual table s using fts5(t, tokenize='porter unicode61')")
        text = open(${JSON.stringify(args.article)}, encoding='utf-8').read()
        for x in re.split(r'(?<=[.!?\\u201d"])\\s+|\\n', text):
            if len(x.strip()) > 20:
                self.db.execute('insert into s values (?)', (x.strip(),))

    @re_botcmd(pattern=r'^errbot[:,]\\s*(?P<q>.+)$', prefixed=False, flags=re.IGNORECASE)
    def ask(self, msg, match):
        words = [w for w in re.findall(r'[a-z0-9]+', match.group('q').lower()) if w not in STOP]
        row = None
        if words:
            row = self.db.execute('select t from s where s match ? order by bm25(s) limit 1',
                                  (' OR '.join('"%s"' % w for w in words),)).fetchone()
        return '> %s\\nSource: CNN, 20 Nov 2025' % row[0] if row else "Sorry, I don't know that one."
`);
  const config = path.join(dir, 'config.py');
  fs.writeFileSync(config, `import logging
BACKEND = 'IRC'
BOT_DATA_DIR = ${JSON.stringify(path.join(dir, 'data'))}
BOT_EXTRA_PLUGIN_DIR = ${JSON.stringify(path.join(dir, 'plugins'))}
BOT_LOG_FILE = ${JSON.stringify(path.join(dir, 'errbot.log'))}
BOT_LOG_LEVEL = logging.WARNING
BOT_ADMINS = ('owner!*@*',)
BOT_IDENTITY = {'nickname': 'errbot', 'server': '127.0.0.1', 'port': ${port}, 'ssl': False}
CHATROOM_PRESENCE = (${JSON.stringify(CHANNEL)},)
CORE_PLUGINS = ('ACLs', 'ChatRoom', 'CommandNotFoundFilter', 'Help', 'Plugins', 'Utils')
BOT_PLUGIN_INDEXES = ()
IRC_CHANNEL_RATE = ${LINE_MS / 1000}
IRC_PRIVATE_RATE = ${LINE_MS / 1000}
SUPPRESS_CMD_NOT_FOUND = True
`);
  // /usr/bin/errbot refuses to start on a version check of a library (deepmerge); its main()
  // does not
  return daemon(dir, [PYTHON, '-c', 'import sys; from errbot.cli import main; sys.argv[0] = "errbot"; sys.exit(main())',
    '-c', config]);
}

// ---- asking ----

// Asks bot (its nick) question in the channel; resolves with its lines, "" when it said nothing.
async function ask(client, nick, question) {
  const from = client.lines.length;
  const mine = () => client.lines.slice(from).filter((m) => m.command === 'PRIVMSG' && m.nick === nick &&
    m.params[0] === CHANNEL).map((m) => m.params[1]);
  client.send(`PRIVMSG ${CHANNEL} :${nick}: ${question}`);
  const end = Date.now() + FIRST_LINE_MS;
  while (!mine().length && Date.now() < end) await sleep(20);
  let n = -1;
  while (mine().length !== n) {
    n = mine().length;
    await sleep(QUIET_MS);
  }
  return mine().map((l) => l.replace(/^asker: /, '')).join('\n');
}

// What each bot is first asked, to prove it is set up: its answer must match.
const PROBES = {
  planbot: { question: "How big can Ukraine's army be?", answer: /600,000/ },
  limnoria: { question: 'army-cap', answer: /600,000/ }, // a key: the factoid
  errbot: { question: 'What is the cap on the size of the Ukrainian armed forces?', answer: /600,000/ },
};

// Whether a bot's reply declines (says it does not know), as each bot says it.
const DECLINES = [/^$/, /^I don't know/, /^The knowledge base does not say/, /^I do not know about/, /^Error:/,
  /^Sorry, I don't know/, /No factoid matches/];

async function measure(name, start, irc, client, tmp) {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  const child = start(dir);
  try {
    const end = Date.now() + 60000;
    while (!client.lines.some((m) => m.command === 'JOIN' && m.nick === name)) {
      if (child.exitedWith || Date.now() > end) {
        let log = '';
        for (const f of ['out.out', 'logs/messages.log', 'errbot.log']) {
          try { log += fs.readFileSync(path.join(dir, f), 'utf8').slice(-1500); } catch { /* none */ }
        }
        throw new Error(`${name} did not join ${CHANNEL} (${JSON.stringify(child.exitedWith)}): ${log}\n` +
          `the asker saw last:\n${client.lines.slice(-10).map((m) => m.line).join('\n')}`);
      }
      await sleep(100);
    }
    await sleep(1000); // whatever it does once joined
    // a question it must answer, or the setup is wrong and its figures would mean nothing
    // (Limnoria takes a few seconds after its join to sync the channel before it answers there)
    let probe = '';
    for (let tries = 0; tries < 10 && !PROBES[name].answer.test(probe); tries++) {
      if (tries) await sleep(1000);
      probe = await ask(client, name, PROBES[name].question);
    }
    if (!PROBES[name].answer.test(probe)) throw new Error(`${name} answered "${PROBES[name].question}" with "${probe}"`);
    // idle: what it spends doing nothing (keepalives, timers), to take out of the bursts
    let cpu0 = cpuMs(child.pid);
    await sleep(IDLE_MS);
    const idlePerMs = (cpuMs(child.pid) - cpu0) / IDLE_MS;
    // quality: one question at a time
    const replies = [];
    for (const q of questions) replies.push(await ask(client, name, q));
    // CPU: every question at once, ROUNDS times, each burst until the bot is quiet
    const t0 = Date.now();
    cpu0 = cpuMs(child.pid);
    for (let r = 0; r < ROUNDS; r++) {
      const mine = () => client.lines.filter((m) => m.command === 'PRIVMSG' && m.nick === name).length;
      for (const q of questions) { /* under the network's command rate for its clients */
        client.send(`PRIVMSG ${CHANNEL} :${name}: ${q}`);
        await sleep(25);
      }
      let n = -1;
      await sleep(200);
      while (mine() !== n) {
        n = mine();
        await sleep(BURST_QUIET_MS);
      }
    }
    const wall = Date.now() - t0 - BURST_QUIET_MS * ROUNDS; // less the quiet waits at each end
    const cpu = cpuMs(child.pid) - cpu0 - idlePerMs * (Date.now() - t0);
    const asked = ROUNDS * questions.length;
    const peak = peakKiB(child.pid);
    // the first round's replies, as eval/score reads an answer: declined, or the first answer
    const lines = replies.map((t) => JSON.stringify({ answers: DECLINES.some((d) => d.test(t)) ? [] : [{ text: t }] }));
    const file = path.join(dir, 'answers.jsonl');
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    fs.writeFileSync(path.join(dir, 'replies.txt'), replies.map((r, i) => `${questions[i]}\n  ${r.replace(/\n/g, '\n  ')}`).join('\n'));
    let scored = '';
    try {
      scored = execFileSync(PYTHON, [args.score, args.questions, '--', 'cat', file], { encoding: 'utf8' });
    } catch (e) {
      scored = e.stdout || ''; // exit 1: under its minimums, which are 0 here
    }
    const m = /answered (\d+)\/(\d+) \((\d+)%\); declined (\d+)\/(\d+) off-topic \((\d+)%\)/.exec(scored);
    say(`${name}: ${(cpu / asked).toFixed(3)} ms CPU per question (idle ${(idlePerMs * 1000).toFixed(1)} ms/s), ${(asked * 1000 / Math.max(wall, 1)).toFixed(1)} questions/s, peak ${(peak / 1024).toFixed(1)} MiB, ${m ? m[0] : scored.slice(-200)}`);
    return {
      cpu: cpu / asked, idle: idlePerMs * 1000, peak,
      answered: m ? `${m[1]}/${m[2]}` : '?', declined: m ? `${m[4]}/${m[5]}` : '?',
    };
  } finally {
    await stop(child);
  }
}

function have(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'planbot-irc-compare-'));
  const out = [`rounds ${ROUNDS}`, `questions ${questions.length}`];
  let irc;
  const client = new IrcClient();
  try {
    irc = await startIrc();
    await client.connect({ port: irc.port, nick: 'asker' });
    client.send(`JOIN ${CHANNEL}`);
    await client.waitFor((m) => m.command === 'JOIN' && m.nick === 'asker');
    // the bundled knowledge base, for Limnoria's factoids
    const kbDir = path.join(tmp, 'kb');
    fs.mkdirSync(kbDir);
    const exported = JSON.parse(execFileSync(args.planbot, ['--db', path.join(kbDir, 'kb.db'), 'kb', 'export'], { encoding: 'utf8' }));
    const bots = [['planbot', (d) => startPlanbotBot(d, irc.port)]];
    if (have('supybot') && fs.existsSync(PYTHON)) bots.push(['limnoria', (d) => startLimnoria(d, irc.port, exported.entries)]);
    else out.push('limnoria_skipped not installed (apt-get install limnoria)');
    const errbotOk = fs.existsSync(PYTHON) && (() => {
      try { execFileSync(PYTHON, ['-c', 'import errbot'], { stdio: 'ignore' }); return true; } catch { return false; }
    })();
    if (errbotOk) bots.push(['errbot', (d) => startErrbot(d, irc.port)]);
    else out.push('errbot_skipped not installed (apt-get install errbot)');
    for (const [name, start] of bots.filter(([n]) => args.bots.split(',').includes(n))) {
      say(`asking ${name} ${questions.length} questions, ${ROUNDS} times ...`);
      const r = await measure(name, start, irc, client, tmp);
      out.push(`${name}_cpu_ms_per_question ${r.cpu.toFixed(3)}`, `${name}_idle_cpu_ms_per_s ${r.idle.toFixed(2)}`,
        `${name}_peak_rss_kb ${r.peak}`,
        `${name}_answered ${r.answered}`, `${name}_declined ${r.declined}`);
    }
  } finally {
    client.close();
    if (irc) await irc.stop();
    if (process.env.IRC_COMPARE_KEEP) say(`kept ${tmp}`);
    else fs.rmSync(tmp, { recursive: true, force: true });
  }
  console.log(out.join('\n'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
