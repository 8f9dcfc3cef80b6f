// Hostile Retry-After values on a 429. Adding one to a clock overflowed once and panicked on
// the runtime thread ("Panic in async function", a code Logto does not know). Each must end
// as a clean rate_limit_exceeded ConnectorError, with nothing on stderr (where a panic message
// would go), in a process of its own so that stderr can be read.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';

import { startTwilioServer, throttleOnceThenEnd } from '../support/twilio-server.js';

const HOSTILE = [
  '18446744073709551615', // u64::MAX seconds
  '18446744073709551616', // one more: does not fit in 64 bits
  '9223372036854775807', // i64::MAX seconds: past any clock
  '1e19', // not delta-seconds: ignored
  '-1', // ignored
  'NaN', // ignored
  'Fri, 31 Dec 9999 23:59:59 GMT', // the last date an HTTP-date can name: past the deadline
  'Sat, 01 Jan 99999 00:00:00 GMT', // a five-digit year is not an HTTP-date: ignored
  'Mon, 01 Jan 584554051223 00:00:00 GMT', // ignored
  'Sunday, 06-Nov-94 08:49:37 GMT', // RFC 850 (obsolete, still a date): long past, no floor
];
/** Values that end the send at its first 429: a wait past any deadline. */
const PAST_THE_DEADLINE = new Set(['18446744073709551615', '18446744073709551616', '9223372036854775807', 'Fri, 31 Dec 9999 23:59:59 GMT']);

/** The code a send's Body carries. */
const codeOf = (record) => Number(new URLSearchParams(record.body).get('Body').split(' ').at(-1));

let server;
before(async () => {
  // Each send has a code of its own; the code modulo the list is the value to answer with.
  // The send's first 429 carries the hostile value; a later one a Retry-After past any
  // deadline, which ends the send at once as that 429. So a value the parser ignores (plain
  // backoff) costs one backoff and one more request, and the outcome never depends on the
  // machine's speed.
  const throttle = throttleOnceThenEnd(codeOf, (code) => HOSTILE[code % HOSTILE.length]);
  server = await startTwilioServer({ respond: (req, record, res) => throttle(record, res) });
});
after(() => server.close());

test('a hostile Retry-After on a 429 ends as a clean ConnectorError (rate_limit_exceeded), never a panic', async () => {
  // A deadline far beyond the sends' few hundred milliseconds: it never decides an outcome.
  const env = {
    ...process.env,
    TWILIO_SMS_NATIVE_BASE_URL: server.url,
    TWILIO_SMS_NATIVE_TIMEOUT_MS: '60000',
    HOSTILE_COUNT: String(HOSTILE.length),
  };
  delete env.NODE_OPTIONS;
  delete env.NODE_TEST_CONTEXT;
  // Asynchronous: the server answers from this process's event loop.
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `
      const { ConnectorError } = await import('@logto/connector-kit');
      const { default: createConnector } = await import(${JSON.stringify(new URL('../lib/index.js', import.meta.url).href)});
      const { TwilioSmsConnector } = await import(${JSON.stringify(new URL('../index.js', import.meta.url).href)});
      const { validConfig } = await import(${JSON.stringify(new URL('./fixtures.js', import.meta.url).href)});
      const logto = await createConnector({ getConfig: async () => validConfig() });
      const direct = new TwilioSmsConnector(validConfig(), { baseUrl: process.env.TWILIO_SMS_NATIVE_BASE_URL, timeoutMs: 60000 });
      const outcome = (promise) => promise.then(
        () => ({ ok: true }),
        (error) => ({ connectorError: error instanceof ConnectorError, code: error.code, message: String(error.message) })
      );
      const count = Number(process.env.HOSTILE_COUNT);
      const indexes = Array.from({ length: count }, (_, i) => i);
      const results = await Promise.all(indexes.map(async (i) => ({
        logto: await outcome(logto.sendMessage({ to: '1', type: 'Register', payload: { code: String(i) } })),
        direct: await outcome(direct.sendMessage('1', 'Register', { code: String(i + count) })),
      })));
      console.log(JSON.stringify(results));
      process.exit(0);
      `,
    ],
    { encoding: 'utf8', env, cwd: new URL('..', import.meta.url), timeout: 30_000 }
  );
  assert.equal(stderr, '', 'nothing on stderr (a panic prints there)');
  const results = JSON.parse(stdout);
  assert.equal(results.length, HOSTILE.length);
  for (const [index, { logto, direct }] of results.entries()) {
    const value = HOSTILE[index];
    assert.deepEqual(
      { connectorError: logto.connectorError, code: logto.code },
      { connectorError: true, code: 'rate_limit_exceeded' },
      `Retry-After: ${value} through the Logto module: ${logto.message}`
    );
    assert.equal(direct.code, 'rate_limit_exceeded', `Retry-After: ${value} through the class: ${direct.message}`);
    assert.doesNotMatch(`${logto.message} ${direct.message}`, /panic/i);
    // A value past any clock ends the send at its first 429, without sleeping; any other
    // value (ignored, or a date already past) leaves the plain backoff, so the send met the
    // server's `Retry-After: 3600` on its second request.
    const expected = PAST_THE_DEADLINE.has(value) ? 1 : 2;
    for (const code of [index, index + HOSTILE.length]) {
      const sent = server.requests.filter((record) => codeOf(record) === code).length;
      assert.equal(sent, expected, `Retry-After: ${value}: ${sent} requests for code ${code}`);
    }
  }
});
