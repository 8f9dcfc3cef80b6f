// What scripts/hot-text.mjs profiles: the addon at <addon.node> loaded through lib/index.js as
// Logto loads it, then the sends Logto makes, over HTTPS to the Twilio stand-in. The parent
// runs the stand-in; the child, under callgrind, is the profiled process.
//
//   node scripts/hot-text-workload.mjs <addon.node> <callgrind output file>
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));

if (process.argv[2] !== '--child') {
  const [addon, profile] = process.argv.slice(2);
  const { startTwilioServer } = await import('../support/twilio-server.js');
  const { makePki } = await import('../support/certs.js');
  const pki = makePki(join(root, 'bench', 'out', 'pki'));
  const server = await startTwilioServer({ tls: { key: pki.key, cert: pki.cert } });
  const callgrind = ['--tool=callgrind', '--dump-instr=yes', '--demangle=no', `--callgrind-out-file=${profile}`];
  const child = spawn('valgrind', [...callgrind, process.execPath, fileURLToPath(import.meta.url), '--child'], {
    stdio: 'inherit',
    env: {
      ...process.env,
      NAPI_RS_NATIVE_LIBRARY_PATH: addon,
      NODE_EXTRA_CA_CERTS: pki.caPath,
      TWILIO_SMS_NATIVE_BASE_URL: server.url,
    },
  });
  const code = await new Promise((resolve) => child.once('exit', resolve));
  await server.close();
  process.exit(code ?? 1);
}

// Core has the kit loaded before any connector.
await import('@logto/connector-kit');
const config = {
  accountSID: `AC${'a'.repeat(32)}`,
  authToken: 'b'.repeat(32),
  fromMessagingServiceSID: `MG${'c'.repeat(32)}`,
  templates: ['SignIn', 'Register', 'ForgotPassword', 'Generic'].map((usageType) => ({ usageType, content: `Your ${usageType} code is {{code}}.` })),
};
const { default: createConnector } = await import('../lib/index.js');
const connector = await createConnector({ getConfig: async () => config });
// Bound (a sign-in code) and unbound with the config passed in (the Console's test).
const signIn = () => connector.sendMessage({ to: '+15551234567', type: 'SignIn', payload: { code: '123456' } });
const consoleTest = () => connector.sendMessage({ to: '+15551234567', type: 'Generic', payload: { code: '123456' } }, config);
for (let i = 0; i < 20; i += 1) await signIn();
await Promise.all(Array.from({ length: 10 }, consoleTest));
for (let i = 0; i < 20; i += 1) await consoleTest();
process.exit(0);
