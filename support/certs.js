// Test PKI for the HTTPS fixtures, made with the `openssl` CLI.
//
// Everything is EC P-256 (fast to generate) and written with explicit, minimal
// openssl configs so the result does not depend on the system openssl.cnf.
// The certificates are shaped to satisfy both Node's OpenSSL and rustls/webpki,
// which is stricter: the CA carries basicConstraints CA:TRUE + keyCertSign,
// leaf certificates are CA:FALSE, have a SAN, digitalSignature and serverAuth.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { withLockDirSync } from './lock-dir.js';

const OPENSSL = existsSync('/usr/bin/openssl') ? '/usr/bin/openssl' : 'openssl';

/** Every file makePki leaves behind; if all exist the directory is reused as is. */
const OUTPUT_FILES = [
  'ca.pem',
  'ca-key.pem',
  'server.pem',
  'server-key.pem',
  'expired.pem',
  'expired-key.pem',
  'wronghost.pem',
  'wronghost-key.pem',
  'other-ca.pem',
  'other-ca-key.pem',
  'other.pem',
  'other-key.pem',
];

const SERVER_SAN = 'DNS:localhost,DNS:api.twilio.com,DNS:api.dublin.ie1.twilio.com,IP:127.0.0.1,IP:::1';

const openssl = (args, cwd) => execFileSync(OPENSSL, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });

/** Minimal config used by `req` (CSR / self-signed CA) and `ca`. */
const baseConfig = (dir) => `
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused

[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ ca ]
default_ca = test_ca
[ test_ca ]
dir = ${dir}
database = $dir/ca-work/index.txt
serial = $dir/ca-work/serial
new_certs_dir = $dir/ca-work
certificate = $dir/ca.pem
private_key = $dir/ca-key.pem
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
[ policy_any ]
commonName = supplied
`;

/** Extensions of a leaf (server) certificate with the given SAN list. */
const leafExtensions = (san) => `
[ leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = ${san}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

const ecKey = (dir, file) => openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file], dir);

function makeCa(dir, config, keyFile, certFile, cn) {
  ecKey(dir, keyFile);
  openssl(
    [
      'req',
      '-config',
      config,
      '-x509',
      '-new',
      '-key',
      keyFile,
      '-subj',
      `/CN=${cn}`,
      '-days',
      '3650',
      '-sha256',
      '-extensions',
      'v3_ca',
      '-set_serial',
      `0x${randomSerial()}`,
      '-out',
      certFile,
    ],
    dir
  );
}

/** A leaf valid from now for `days`, signed with `x509 -req`. */
function makeLeaf(dir, { config, name, cn, san, caCert, caKey, days = 825 }) {
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, leafExtensions(san));
  ecKey(dir, `${name}-key.pem`);
  openssl(['req', '-config', config, '-new', '-key', `${name}-key.pem`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`], dir);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      caCert,
      '-CAkey',
      caKey,
      '-set_serial',
      `0x${randomSerial()}`,
      '-days',
      String(days),
      '-sha256',
      '-extfile',
      ext,
      '-extensions',
      'leaf',
      '-out',
      `${name}.pem`,
    ],
    dir
  );
  rmSync(join(dir, `${name}.csr`));
  rmSync(ext);
}

/**
 * An already-expired leaf. OpenSSL 3.0's `x509 -req` has no -not_before/-not_after
 * (those arrived in 3.4), so this goes through `openssl ca`, which takes explicit
 * -startdate/-enddate.
 */
function makeExpiredLeaf(dir, config) {
  const work = join(dir, 'ca-work');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work);
  writeFileSync(join(work, 'index.txt'), '');
  writeFileSync(join(work, 'serial'), `${randomSerial()}\n`);
  const ext = join(dir, 'expired.ext');
  writeFileSync(ext, leafExtensions(SERVER_SAN));
  ecKey(dir, 'expired-key.pem');
  openssl(['req', '-config', config, '-new', '-key', 'expired-key.pem', '-subj', '/CN=localhost', '-out', 'expired.csr'], dir);
  openssl(
    [
      'ca',
      '-config',
      config,
      '-batch',
      '-notext',
      '-in',
      'expired.csr',
      '-startdate',
      '20200101000000Z',
      '-enddate',
      '20200102000000Z',
      '-extfile',
      ext,
      '-extensions',
      'leaf',
      '-out',
      'expired.pem',
    ],
    dir
  );
  rmSync(join(dir, 'expired.csr'));
  rmSync(ext);
  rmSync(work, { recursive: true, force: true });
}

/** 16 random bytes as hex, top bit cleared so the serial is positive (webpki insists). */
function randomSerial() {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  bytes[0] = (bytes[0] & 0x7f) | 0x10;
  return Buffer.from(bytes).toString('hex');
}

function generate(dir) {
  const config = join(dir, 'openssl.cnf');
  writeFileSync(config, baseConfig(dir));
  makeCa(dir, config, 'ca-key.pem', 'ca.pem', 'connector-twilio-sms-native test root CA');
  makeLeaf(dir, { config, name: 'server', cn: 'localhost', san: SERVER_SAN, caCert: 'ca.pem', caKey: 'ca-key.pem' });
  makeLeaf(dir, { config, name: 'wronghost', cn: 'wrong.example.test', san: 'DNS:wrong.example.test', caCert: 'ca.pem', caKey: 'ca-key.pem' });
  makeExpiredLeaf(dir, config);
  makeCa(dir, config, 'other-ca-key.pem', 'other-ca.pem', 'Unknown test CA');
  makeLeaf(dir, { config, name: 'other', cn: 'localhost', san: 'DNS:localhost,IP:127.0.0.1,IP:::1', caCert: 'other-ca.pem', caKey: 'other-ca-key.pem' });
  rmSync(config);
}

/**
 * Create (or reuse) the test PKI in `dir`:
 * - ca.pem / ca-key.pem: the test root CA (what NODE_EXTRA_CA_CERTS points at);
 * - server.pem / server-key.pem: localhost, api.twilio.com, api.dublin.ie1.twilio.com,
 *   127.0.0.1, ::1, valid now;
 * - expired.pem / expired-key.pem: same names, same CA, expired on 2020-01-02;
 * - wronghost.pem / wronghost-key.pem: same CA, SAN DNS:wrong.example.test only;
 * - other.pem / other-key.pem: localhost / 127.0.0.1 / ::1 signed by an unrelated CA
 *   (other-ca.pem) that nobody trusts.
 * Files already present (all of them) are reused, so a second call costs a few reads.
 */
export function makePki(dir) {
  dir = resolve(dir);
  mkdirSync(dir, { recursive: true });

  const complete = () => OUTPUT_FILES.every((file) => existsSync(join(dir, file)));
  if (!complete()) {
    // Test files may run in parallel processes sharing one directory: serialise
    // generation so nobody reads a CA from one run and a leaf from another.
    // A lock older than 60 s was left by a killed process.
    withLockDirSync(
      join(dir, '.pki-lock'),
      () => {
        if (!complete()) generate(dir);
      },
      { staleMs: 60_000 }
    );
  }

  const read = (file) => readFileSync(join(dir, file), 'utf8');
  return {
    dir,
    caPath: join(dir, 'ca.pem'),
    ca: read('ca.pem'),
    key: read('server-key.pem'),
    cert: read('server.pem'),
    expired: { key: read('expired-key.pem'), cert: read('expired.pem') },
    wrongHost: { key: read('wronghost-key.pem'), cert: read('wronghost.pem') },
    unknownCa: { key: read('other-key.pem'), cert: read('other.pem') },
  };
}
