'use strict';
// pki.js - certificates and a TLS proxy for the tests that check planbot's TLS (slack/tls.test.js,
// discord/e2e.test.js): a throw-away CA made with the openssl command line tool, and a TLS
// terminating proxy on 127.0.0.1 with a certificate of the test's choosing.

const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const tls = require('node:tls');

const OPENSSL_CNF = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = IP:127.0.0.1
[wrong_name_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = IP:127.0.0.2, DNS:wrong.invalid
`;

function openssl(dir, args) {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.error && r.error.code === 'ENOENT') {
    throw new Error('the openssl command line tool is not installed; tls.test.js needs it to make its ' +
      'test certificates (Debian: apt-get install openssl)');
  }
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return r.stdout;
}

// Makes a throw-away CA, a server certificate for 127.0.0.1 signed by it, a certificate signed by it
// for another address, a second, unrelated CA, and a third CA (a stand-in for the system's store) with
// a certificate for 127.0.0.1. Returns their paths and PEM contents.
function makeCerts(dir) {
  fs.mkdirSync(dir, { recursive: true });
  openssl(dir, ['version']);
  fs.writeFileSync(path.join(dir, 'openssl.cnf'), OPENSSL_CNF);
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const ca = (name, cn) => openssl(dir, ['req', '-config', 'openssl.cnf', '-x509', ...key,
    '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${cn}`, '-extensions', 'ca_ext']);
  let serial = 1;
  const leaf = (name, caName, ext) => {
    openssl(dir, ['req', '-config', 'openssl.cnf', '-new', ...key, '-keyout', `${name}.key`,
      '-out', `${name}.csr`, '-subj', '/CN=planbot test server']);
    openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.pem`, '-CAkey', `${caName}.key`,
      '-set_serial', String(serial++), '-days', '2', '-out', `${name}.pem`,
      '-extfile', 'openssl.cnf', '-extensions', ext]);
  };
  ca('ca', 'planbot test CA');
  ca('other-ca', 'planbot unrelated CA');
  ca('system-ca', 'planbot stand-in system CA');
  leaf('server', 'ca', 'server_ext');
  leaf('wrong-name', 'ca', 'wrong_name_ext');
  leaf('system-signed', 'system-ca', 'server_ext');
  // the chain is what the tests assume: server and wrong-name verify against ca, not against other-ca
  openssl(dir, ['verify', '-CAfile', 'ca.pem', 'server.pem', 'wrong-name.pem']);
  assert.match(openssl(dir, ['x509', '-in', 'server.pem', '-noout', '-ext', 'subjectAltName']), /IP Address:127\.0\.0\.1\b/);
  const bad = spawnSync('openssl', ['verify', '-CAfile', 'other-ca.pem', 'server.pem'], { cwd: dir });
  assert.notEqual(bad.status, 0, 'the server certificate verifies against the unrelated CA');
  const pair = (name) => ({
    key: fs.readFileSync(path.join(dir, `${name}.key`)),
    cert: fs.readFileSync(path.join(dir, `${name}.pem`)),
    keyFile: path.join(dir, `${name}.key`),
    certFile: path.join(dir, `${name}.pem`),
  });
  return {
    caFile: path.join(dir, 'ca.pem'),
    otherCaFile: path.join(dir, 'other-ca.pem'),
    ca: fs.readFileSync(path.join(dir, 'ca.pem')),
    systemCaFile: path.join(dir, 'system-ca.pem'),
    server: pair('server'),
    wrongName: pair('wrong-name'),
    systemSigned: pair('system-signed'),
  };
}

// The name OpenSSL looks a CA up by in a hashed directory (SSL_CERT_DIR): HASH.0.
function hashName(dir, caFile) {
  return `${openssl(dir, ['x509', '-hash', '-noout', '-in', caFile]).trim()}.0`;
}

// A TLS terminating proxy on 127.0.0.1 with its own certificate, in front of the fake's port
// (target.port, filled in later); it checks the fake's certificate against target.ca, or, without
// target.ca, speaks plain TCP to it.
function startTlsProxy({ key, cert }, target) {
  const proxy = { handshakes: 0, errors: [], sockets: new Set() };
  const server = tls.createServer({ key, cert }, (client) => {
    proxy.handshakes++;
    const up = target.ca ? tls.connect({ host: '127.0.0.1', port: target.port, ca: target.ca })
      : net.connect({ host: '127.0.0.1', port: target.port });
    for (const [a, b] of [[client, up], [up, client]]) {
      proxy.sockets.add(a);
      a.pipe(b);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        proxy.sockets.delete(a);
        b.destroy();
      });
    }
  });
  server.on('tlsClientError', (e, socket) => {
    proxy.errors.push(e.message);
    socket.destroy();
  });
  proxy.close = () => new Promise((resolve) => {
    for (const s of proxy.sockets) s.destroy();
    server.close(() => resolve());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      proxy.port = server.address().port;
      resolve(proxy);
    });
  });
}

module.exports = { makeCerts, startTlsProxy, hashName };
