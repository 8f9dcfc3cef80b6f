// One Logto replica under SMS pumping: sends COUNT codes at once through the Logto module's
// class with the shared Redis (REDIS_URL) and the config in CONFIG, after the go signal on
// stdin, and prints one JSON line: how many were sent and the codes of the refusals.
import { TwilioSmsConnector } from '../../index.js';

const { BASE_URL, REDIS_URL, CONFIG, COUNT, SENDER } = process.env;
const connector = new TwilioSmsConnector(JSON.parse(CONFIG), { baseUrl: BASE_URL, redisUrl: REDIS_URL, redisTimeoutMs: 2000, timeoutMs: 60_000 });
process.stdout.write('ready\n');
await new Promise((resolve) => process.stdin.once('data', resolve));
const outcomes = await Promise.allSettled(
  Array.from({ length: Number(COUNT) }, (_, i) =>
    connector.sendMessage(`+1415555${String(i % 10).padStart(4, '0')}`, 'SignIn', { code: `${SENDER}-${i}` }, { ip: `198.51.100.${i % 250}` })
  )
);
const refused = {};
for (const outcome of outcomes) {
  if (outcome.status === 'rejected') refused[outcome.reason?.code] = (refused[outcome.reason?.code] ?? 0) + 1;
}
const sent = outcomes.filter((outcome) => outcome.status === 'fulfilled').length;
process.stdout.write(`${JSON.stringify({ sent, refused })}\n`);
process.exit(0);
