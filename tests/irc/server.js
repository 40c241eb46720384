// server.js - a real IRC network for the tests: Debian's inspircd 3 with its TLS and WebSocket
// listeners, and atheme-services linked to it for accounts and SASL, all on 127.0.0.1 on free
// ports, in a temporary folder, stopped afterwards.
//
//   const net = await startIrc({ flood: false, accountTag: true });
//   net.port, net.tlsPort, net.wsPort, net.caFile   where planbot and the test clients connect
//   await net.register('mod', 'secretpw')            a services account (SASL PLAIN works after)
//   await net.restart()                              inspircd stopped and started on the same ports
//   await net.stop()
//
// flood: true gives clients the server's own flood protection (fakelag, its default command rate,
// an 8 KiB receive queue) instead of the permissive class the other tests use, so a test can
// check that planbot stays under it: a client over it is first delayed and then disconnected with
// "Excess Flood". accountTag: false leaves out the account-tag capability (m_ircv3_accounttag), so
// a client learns accounts only from account-notify, extended-join and WHOX, as on networks that
// do not tag messages. See ../../../shared/docs/chat-servers.md for the settings measured here.
'use strict';

const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { IrcClient } = require('./client');

const INSPIRCD = '/usr/sbin/inspircd';
const ATHEME = '/usr/bin/atheme-services';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A port nobody listens on now.
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// A self-signed certificate for 127.0.0.1 and localhost: the CA planbot is told to trust.
function makeCert(dir) {
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-days', '2', '-subj', '/CN=irc.test', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-keyout', 'key.pem', '-out', 'cert.pem'],
  { cwd: dir, encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error(`openssl cannot make the test certificate (apt-get install openssl): ${r.stderr || r.error}`);
  }
}

function inspircdConf(dir, ports, flood, accountTag) {
  const connect = flood
    // the server's defaults: one command a second after a burst, fakelag, an 8 KiB queue
    ? '<connect name="main" allow="127.0.0.1" resolvehostnames="no" useident="no" localmax="1000" globalmax="1000" recvq="8192" threshold="10" commandrate="1000" fakelag="on">'
    : '<connect name="main" allow="127.0.0.1" fakelag="off" commandrate="100000" threshold="1000" recvq="65536" resolvehostnames="no" useident="no" localmax="1000" globalmax="1000">';
  return `<server name="irc.test" description="planbot tests" network="TestNet" id="0AA">
<admin name="test" nick="test" email="test@localhost">
${['cap', 'ircv3', ...(accountTag ? ['ircv3_accounttag'] : []), 'ircv3_echomessage', 'ircv3_servertime',
    'ircv3_capnotify', 'sasl', 'services_account', 'spanningtree', 'ssl_gnutls', 'sha1', 'websocket']
    .map((m) => `<module name="${m}">`).join('\n')}
<sslprofile name="tls" provider="gnutls" certfile="${dir}/cert.pem" keyfile="${dir}/key.pem" requestclientcert="no">
<websocket defaultmode="text">
<wsorigin allow="*">
<bind address="127.0.0.1" port="${ports.tcp}" type="clients">
<bind address="127.0.0.1" port="${ports.tls}" type="clients" sslprofile="tls">
<bind address="127.0.0.1" port="${ports.ws}" type="clients" hook="websocket">
<bind address="127.0.0.1" port="${ports.link}" type="servers">
<sasl target="services.test" requiressl="no">
<link name="services.test" ipaddr="127.0.0.1" port="${ports.link}" allowmask="127.0.0.1" sendpass="linkpw" recvpass="linkpw">
<uline server="services.test" silent="yes">
${connect}
<limits maxnick="30" maxchan="64" maxmodes="20" maxident="10" maxhost="64" maxquit="255" maxtopic="307" maxkick="255" maxreal="128" maxaway="200">
<dns server="127.0.0.1" timeout="1">
<log method="file" type="* -USERINPUT -USEROUTPUT" level="default" target="${dir}/ircd.log">
<power diepass="" restartpass="">
`;
}

function athemeConf(ports) {
  return `${['protocol/inspircd', 'backend/opensex', 'crypto/pbkdf2v2', 'nickserv/main', 'nickserv/register',
    'nickserv/identify', 'nickserv/logout', 'saslserv/main', 'saslserv/plain'].map((m) => `loadmodule "modules/${m}";`).join('\n')}
serverinfo {
  name = "services.test"; desc = "Test Services"; numeric = "00B"; recontime = 1;
  netname = "TestNet"; hidehostsuffix = "users.test"; adminname = "test"; adminemail = "test@localhost";
  loglevel = { error; info; admin; network; register; }; maxlogins = 100; maxusers = 0; mdlimit = 30;
  emaillimit = 1000; emailtime = 1; auth = none; casemapping = rfc1459;
};
uplink "irc.test" { host = "127.0.0.1"; port = ${ports.link}; password = "linkpw"; };
nickserv { nick = "NickServ"; user = "NickServ"; host = "services.test"; real = "Nickname Services"; expire = 0; maxnicks = 5; };
saslserv { nick = "SaslServ"; user = "SaslServ"; host = "services.test"; real = "SASL"; };
general { flood_msgs = 0; flood_time = 10; commit_interval = 5; language = "en"; };
`;
}

// Starts a daemon in the foreground, in dir, with env added to ours; its output goes to
// dir/name.out. The handle's exitedWith says how it ended (null: running).
function daemon(dir, name, argv, env = {}) {
  const out = fs.openSync(path.join(dir, `${name}.out`), 'a');
  const child = spawn(argv[0], argv.slice(1), { cwd: dir, stdio: ['ignore', out, out], env: { ...process.env, ...env } });
  fs.closeSync(out);
  child.exitedWith = null;
  child.on('exit', (code, signal) => { child.exitedWith = { code, signal }; });
  return child;
}

// Stops a daemon: SIGTERM, then SIGKILL after 3 s.
async function kill(child) {
  if (!child || child.exitedWith) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 3000);
  await gone;
  clearTimeout(t);
}

// Waits until inspircd, started with its output going to file out from byte from, has tried
// all its listeners. Returns the lines that say which failed to bind, or '' when all are bound.
async function bindFailures(out, from, child, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    let text = '';
    try {
      const fd = fs.openSync(out, 'r');
      const size = fs.fstatSync(fd).size;
      const buf = Buffer.alloc(Math.max(0, size - from));
      fs.readSync(fd, buf, 0, buf.length, from);
      fs.closeSync(fd);
      text = buf.toString('utf8');
    } catch { /* not written yet */ }
    if (/is now running/.test(text)) {
      return /failed to bind/.test(text) ? text.split('\n').filter((l) => /in use|failed to bind/.test(l)).join('; ') : '';
    }
    if (child.exitedWith) throw new Error(`inspircd exited ${JSON.stringify(child.exitedWith)}: ${text}`);
    if (Date.now() > end) throw new Error(`inspircd did not start within ${ms} ms: ${text}`);
    await sleep(50);
  }
}

async function startIrc({ flood = false, accountTag = true } = {}) {
  for (const bin of [INSPIRCD, ATHEME]) {
    if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: the IRC tests need Debian's inspircd and atheme-services (tests/deps.sh installs them)`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'planbot-irc-'));
  const ports = {};
  makeCert(dir);
  const srv = { host: '127.0.0.1', caFile: path.join(dir, 'cert.pem'), dir, ircd: null, services: null };
  // New free ports, in the configuration and in srv.
  const choosePorts = async () => {
    Object.assign(ports, { tcp: await freePort(), tls: await freePort(), ws: await freePort(), link: await freePort() });
    Object.assign(srv, { port: ports.tcp, tlsPort: ports.tls, wsPort: ports.ws });
    fs.writeFileSync(path.join(dir, 'inspircd.conf'), inspircdConf(dir, ports, flood, accountTag));
    fs.writeFileSync(path.join(dir, 'atheme.conf'), athemeConf(ports));
  };

  // Resolves once a client sees NickServ on the network (services linked).
  srv.ready = async (ms = 20000) => {
    const end = Date.now() + ms;
    for (;;) {
      if (srv.ircd.exitedWith) throw new Error(`inspircd exited ${JSON.stringify(srv.ircd.exitedWith)}: ${srv.log()}`);
      const c = new IrcClient();
      try {
        await c.connect({ port: ports.tcp, nick: `probe${process.pid % 1000}` }, 5000);
        c.send('ISON NickServ');
        const r = await c.waitFor((m) => m.command === '303', 2000);
        if (/NickServ/i.test(r.params[1] || '')) return;
      } catch (e) {
        if (Date.now() > end) throw new Error(`the IRC network did not come up: ${e.message}\n${srv.log()}`);
      } finally {
        c.close();
      }
      if (Date.now() > end) throw new Error(`services did not link within ${ms} ms\n${srv.log()}`);
      await sleep(200);
    }
  };
  // Starts inspircd until all its listeners are bound. A port found free can be taken before
  // inspircd binds it (by a test running beside this one), and inspircd then runs without that
  // listener: on the first start it gets new ports, on a restart (where planbot must find the
  // same ones) it tries the same ports again.
  srv.startIrcd = async (newPorts) => {
    for (let attempt = 1; ; attempt++) {
      if (newPorts) await choosePorts();
      const out = path.join(dir, 'inspircd.out');
      const from = fs.existsSync(out) ? fs.statSync(out).size : 0;
      srv.ircd = daemon(dir, 'inspircd', [INSPIRCD, `--config=${dir}/inspircd.conf`, '--nofork', '--nopid', '--runasroot']);
      const failed = await bindFailures(out, from, srv.ircd);
      if (!failed) return;
      await kill(srv.ircd);
      if (attempt === 5) throw new Error(`inspircd could not bind its ports 5 times: ${failed}\n${srv.log()}`);
      await sleep(newPorts ? 0 : 500);
    }
  };
  srv.log = () => ['inspircd.out', 'ircd.log', 'atheme.out']
    .map((f) => { try { return `== ${f}\n${fs.readFileSync(path.join(dir, f), 'utf8').slice(-3000)}`; } catch { return ''; } })
    .join('\n');
  // A services account: registered through NickServ by a client of that nick.
  srv.register = async (account, password) => {
    const c = new IrcClient();
    try {
      await c.connect({ port: ports.tcp, nick: account });
      c.send(`PRIVMSG NickServ :REGISTER ${password} ${account}@example.com`);
      const r = await c.waitFor((m) => m.command === 'NOTICE' && /^NickServ$/i.test(m.nick) && /registered|already/i.test(m.params[1]), 10000);
      if (!/registered/i.test(r.params[1]) || /already/i.test(r.params[1])) throw new Error(`NickServ: ${r.params[1]}`);
    } finally {
      c.close();
    }
  };
  srv.restart = async () => {
    await kill(srv.ircd);
    await srv.startIrcd(false);
    await srv.ready();
  };
  srv.stop = async () => {
    await kill(srv.services);
    await kill(srv.ircd);
    fs.rmSync(dir, { recursive: true, force: true });
  };

  try {
    await srv.startIrcd(true);
  } catch (e) {
    await srv.stop();
    throw e;
  }
  srv.services = daemon(dir, 'atheme', [ATHEME, '-n', '-c', `${dir}/atheme.conf`, '-D', dir, '-l', `${dir}/atheme.log`, '-p', `${dir}/atheme.pid`]);
  try {
    await srv.ready();
  } catch (e) {
    await srv.stop();
    throw e;
  }
  return srv;
}

module.exports = { startIrc, sleep, daemon, kill };
