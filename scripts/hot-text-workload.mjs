// What scripts/hot-text.mjs profiles: the addon at <addon.node> loaded through lib/index.js as
// Logto loads it, then the sends Logto makes, over HTTPS to the Twilio stand-in. The parent
// runs the stand-in; the child, under callgrind, is the profiled process.
//
//   node scripts/hot-text-workload.mjs <addon.node> <callgrind output file>
import { fileURLToPath } from 'node:url';

if (process.argv[2] !== '--child') {
  const [addon, profile] = process.argv.slice(2);
  // Imported here only: the profiled child loads none of the stand-in's code.
  const { runBesideStandIn } = await import('../bench/stand-in.mjs');
  const callgrind = ['--tool=callgrind', '--dump-instr=yes', '--demangle=no', `--callgrind-out-file=${profile}`];
  process.exit(
    await runBesideStandIn('valgrind', [...callgrind, process.execPath, fileURLToPath(import.meta.url), '--child'], {
      NAPI_RS_NATIVE_LIBRARY_PATH: addon,
    })
  );
}

// Core has the kit loaded before any connector.
await import('@logto/connector-kit');
const { benchConfig } = await import('../bench/config.mjs');
const config = benchConfig();
const { default: createConnector } = await import('../lib/index.js');
const connector = await createConnector({ getConfig: async () => config });
// Bound (a sign-in code) and unbound with the config passed in (the Console's test).
const signIn = () => connector.sendMessage({ to: '+15551234567', type: 'SignIn', payload: { code: '123456' } });
const consoleTest = () => connector.sendMessage({ to: '+15551234567', type: 'Generic', payload: { code: '123456' } }, config);
for (let i = 0; i < 20; i += 1) await signIn();
await Promise.all(Array.from({ length: 10 }, consoleTest));
for (let i = 0; i < 20; i += 1) await consoleTest();
process.exit(0);
