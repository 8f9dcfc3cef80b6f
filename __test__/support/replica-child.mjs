// One Logto replica: loads the package the way an embedder does, sends COUNT codes at once
// (`<SENDER>-<n>`) to BASE_URL with the default options but a 60 s deadline, and prints one
// JSON line with the outcome of each. Stays silent otherwise: anything on stderr is a finding.
import { TwilioSmsConnector } from '../../index.js';
import { validConfig } from '../fixtures.js';

const { BASE_URL, SENDER, COUNT } = process.env;
// The deadline is the one non-default: up to 16 replicas share a CI machine's two cores, and a
// send that is still retrying 429s at the default 10 s would fail by the machine's speed.
const connector = new TwilioSmsConnector(validConfig(), { baseUrl: BASE_URL, timeoutMs: 60_000 });
// Say ready, then wait for the go signal, so every replica fires its burst at the same moment.
process.stdout.write('ready\n');
await new Promise((resolve) => process.stdin.once('data', resolve));
const outcomes = await Promise.allSettled(
  Array.from({ length: Number(COUNT) }, (_, i) => connector.sendMessage('+15550001111', 'Register', { code: `${SENDER}-${i}` }))
);
const failures = outcomes.filter((outcome) => outcome.status === 'rejected').map(({ reason }) => `${reason?.code}: ${reason?.message}`);
process.stdout.write(`${JSON.stringify({ delivered: outcomes.length - failures.length, failures })}\n`);
// Pooled keep-alive sockets would keep the process alive.
process.exit(0);
