// Runs a measured child process against the Twilio stand-in (support/twilio-server.js over
// HTTPS, with the bench's own PKI), so the stand-in's memory and CPU are not the child's: the
// parent serves, the child sends. The child finds the stand-in by TWILIO_SMS_NATIVE_BASE_URL and
// trusts it by NODE_EXTRA_CA_CERTS. Resolves to the child's exit code.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { makePki } from '../support/certs.js';
import { startTwilioServer } from '../support/twilio-server.js';

const root = fileURLToPath(new URL('../', import.meta.url));

export async function runBesideStandIn(command, args, env = {}) {
  const pki = makePki(join(root, 'bench', 'out', 'pki'));
  const server = await startTwilioServer({ tls: { key: pki.key, cert: pki.cert } });
  try {
    const child = spawn(command, args, {
      stdio: 'inherit',
      env: { ...process.env, ...env, NODE_EXTRA_CA_CERTS: pki.caPath, TWILIO_SMS_NATIVE_BASE_URL: server.url },
    });
    return await new Promise((resolve, reject) => {
      child.once('error', (error) => reject(new Error(`could not start ${command}: ${error.message}`)));
      child.once('exit', (code) => resolve(code ?? 1));
    });
  } finally {
    await server.close();
  }
}
