// Hostile Retry-After values on a 429. Adding one to a clock overflowed once and panicked on
// the runtime thread ("Panic in async function", a code Logto does not know). Each must end
// as a clean rate_limit_exceeded ConnectorError within the deadline, with nothing on stderr
// (where a panic message would go), in a process of its own so that stderr can be read.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';

import { startTwilioServer, twilioError } from '../support/twilio-server.js';

const HOSTILE = [
  '18446744073709551615', // u64::MAX seconds
  '18446744073709551616', // one more: does not fit in 64 bits
  '9223372036854775807', // i64::MAX seconds: past any clock
  '1e19',
  '-1',
  'NaN',
  'Fri, 31 Dec 9999 23:59:59 GMT',
  'Sat, 01 Jan 99999 00:00:00 GMT',
  'Mon, 01 Jan 584554051223 00:00:00 GMT',
  'Sunday, 06-Nov-94 08:49:37 GMT', // RFC 850, obsolete: ignored
];
const TOO_MANY = JSON.stringify(twilioError(429, 20429, 'Too Many Requests'));

let server;
before(async () => {
  server = await startTwilioServer({
    respond: (req, record, res) => {
      // The code is the index of the value to answer with.
      const index = Number(new URLSearchParams(record.body).get('Body').split(' ').at(-1));
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': HOSTILE[index] });
      res.end(TOO_MANY);
    },
  });
});
after(() => server.close());

test('a hostile Retry-After on a 429 ends as a clean ConnectorError (rate_limit_exceeded, or a timeout for ignored values), never a panic', async () => {
  const env = {
    ...process.env,
    TWILIO_SMS_NATIVE_BASE_URL: server.url,
    TWILIO_SMS_NATIVE_TIMEOUT_MS: '1000',
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
      const direct = new TwilioSmsConnector(validConfig(), { baseUrl: process.env.TWILIO_SMS_NATIVE_BASE_URL, timeoutMs: 1000 });
      const outcome = (promise) => promise.then(
        () => ({ ok: true }),
        (error) => ({ connectorError: error instanceof ConnectorError, code: error.code, message: String(error.message) })
      );
      const indexes = Array.from({ length: Number(process.env.HOSTILE_COUNT) }, (_, i) => i);
      const results = await Promise.all(indexes.map(async (i) => ({
        logto: await outcome(logto.sendMessage({ to: '1', type: 'Register', payload: { code: String(i) } })),
        direct: await outcome(direct.sendMessage('1', 'Register', { code: String(i) })),
      })));
      console.log(JSON.stringify(results));
      process.exit(0);
      `,
    ],
    { encoding: 'utf8', env, cwd: new URL('..', import.meta.url), timeout: 30_000 }
  );
  assert.equal(stderr, '', 'nothing on stderr (a panic prints there)');
  const results = JSON.parse(stdout);
  for (const [index, { logto, direct }] of results.entries()) {
    const value = HOSTILE[index];
    // A value past any clock ends the send at once as the 429 it answered. A value that is
    // ignored (negative, not a number, an obsolete date form) leaves plain backoff, so the
    // deadline may also strike while a retry is in flight: then the send is a `general`
    // timeout, since Twilio may be processing that request.
    const ignored = ['-1', 'NaN'].includes(value) || value.includes('-Nov-');
    const expected = (outcome) => (ignored && outcome.code === 'general' && /timed out/.test(outcome.message) ? 'general' : 'rate_limit_exceeded');
    assert.deepEqual(
      { connectorError: logto.connectorError, code: logto.code },
      { connectorError: true, code: expected(logto) },
      `Retry-After: ${value} through the Logto module: ${logto.message}`
    );
    assert.equal(direct.code, expected(direct), `Retry-After: ${value} through the class: ${direct.message}`);
    assert.doesNotMatch(`${logto.message} ${direct.message}`, /panic/i);
  }
  // Every value was answered at least once per send.
  assert.ok(server.requests.length >= 2 * HOSTILE.length);
});
