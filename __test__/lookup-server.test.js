// The Twilio stand-in's Lookup v2 route (support/twilio-server.js): the phone number resource
// of Twilio's OpenAPI description, the SMS pumping risk each test sets per number, Basic auth,
// Twilio's errors, the scripted faults and the record of every request. The Rust Lookup client
// is tested against a Rust server (tests/lookup.rs); this is the stand-in the Node tests use.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { accountSID, authToken, basicAuth } from './fixtures.js';
import { answerWith, DEFAULT_PUMPING_RISK, startScriptedServer, startTwilioServer, twilioError } from '../support/twilio-server.js';

/** Every field of the OpenAPI description's `LookupResponse`, in its order. */
const LOOKUP_RESPONSE_FIELDS = [
  'calling_country_code',
  'country_code',
  'phone_number',
  'national_format',
  'valid',
  'validation_errors',
  'caller_name',
  'sim_swap',
  'call_forwarding',
  'line_status',
  'line_type_intelligence',
  'identity_match',
  'reassigned_number',
  'sms_pumping_risk',
  'phone_number_quality_score',
  'pre_fill',
  'url',
];

/** The fields of `SmsPumpingRiskInfo`. */
const RISK_FIELDS = ['carrier_risk_category', 'number_blocked', 'number_blocked_date', 'number_blocked_last_3_months', 'sms_pumping_risk_score', 'error_code'];

let server;
before(async () => {
  server = await startScriptedServer();
});
after(() => server.close());

// `fields` or `authorization` null: left out.
const lookup = async (number, { fields = 'sms_pumping_risk', authorization = basicAuth(), target = server } = {}) => {
  const query = fields === null ? '' : `?Fields=${fields}`;
  const response = await fetch(`${target.url}/v2/PhoneNumbers/${encodeURIComponent(number)}${query}`, {
    headers: authorization ? { authorization } : {},
  });
  return { status: response.status, body: await response.json() };
};

describe('Lookup v2 phone numbers', () => {
  test('a number no test set is answered as a low-risk number, in the full resource shape', async () => {
    server.answer = undefined;
    const { status, body } = await lookup('+447700900123');
    assert.equal(status, 200);
    assert.deepEqual(Object.keys(body), LOOKUP_RESPONSE_FIELDS);
    assert.deepEqual(Object.keys(body.sms_pumping_risk), RISK_FIELDS);
    assert.deepEqual(body.sms_pumping_risk, DEFAULT_PUMPING_RISK);
    assert.equal(body.phone_number, '+447700900123');
    assert.equal(body.valid, true);
    assert.deepEqual(body.validation_errors, []);
    assert.equal(body.url, 'https://lookups.twilio.com/v2/PhoneNumbers/+447700900123');
    for (const field of LOOKUP_RESPONSE_FIELDS.filter((f) => !['phone_number', 'valid', 'validation_errors', 'sms_pumping_risk', 'url'].includes(f))) {
      assert.equal(body[field], null, field);
    }
    const request = server.requests.at(-1);
    assert.equal(request.method, 'GET');
    assert.equal(request.url, '/v2/PhoneNumbers/%2B447700900123?Fields=sms_pumping_risk');
    assert.equal(request.headers.authorization, basicAuth());
  });

  test('each number answers the score, block and error the test set', async () => {
    server.answer = undefined;
    server.pumpingRisk.set('+447700900124', { sms_pumping_risk_score: 95, carrier_risk_category: 'high' });
    server.pumpingRisk.set('+447700900125', {
      sms_pumping_risk_score: 100,
      number_blocked: true,
      number_blocked_date: '2024-03-01T17:20:05Z',
      number_blocked_last_3_months: true,
    });
    server.pumpingRisk.set('+447700900126', null);
    server.pumpingRisk.set('+447700900127', {
      carrier_risk_category: null,
      number_blocked: null,
      number_blocked_last_3_months: null,
      sms_pumping_risk_score: null,
      error_code: 60606,
    });
    const risk = async (number) => (await lookup(number)).body.sms_pumping_risk;
    assert.deepEqual(await risk('+447700900124'), { ...DEFAULT_PUMPING_RISK, sms_pumping_risk_score: 95, carrier_risk_category: 'high' });
    assert.deepEqual(await risk('+447700900125'), {
      carrier_risk_category: 'low',
      number_blocked: true,
      number_blocked_date: '2024-03-01T17:20:05Z',
      number_blocked_last_3_months: true,
      sms_pumping_risk_score: 100,
      error_code: null,
    });
    assert.equal(await risk('+447700900126'), null);
    assert.equal((await risk('+447700900127')).error_code, 60606);
    // Without the package asked for, it is null whatever was set.
    assert.equal((await lookup('+447700900124', { fields: null })).body.sms_pumping_risk, null);
    assert.equal((await lookup('+447700900124', { fields: 'line_type_intelligence' })).body.sms_pumping_risk, null);
    assert.equal((await lookup('+447700900124', { fields: 'caller_name,sms_pumping_risk' })).body.sms_pumping_risk.sms_pumping_risk_score, 95);
  });

  test('a number of the wrong length is invalid; a path that is no number is 20404', async () => {
    server.answer = undefined;
    const short = await lookup('+4412');
    assert.equal(short.status, 200);
    assert.equal(short.body.valid, false);
    assert.deepEqual(short.body.validation_errors, ['TOO_SHORT']);
    assert.equal(short.body.sms_pumping_risk, null);
    assert.deepEqual((await lookup('+4477009001234567')).body.validation_errors, ['TOO_LONG']);
    const missing = await lookup('not-a-number');
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body, twilioError(404, 20404, 'The requested resource /v2/PhoneNumbers/not-a-number was not found'));
  });

  test('a request without a Basic credential is 20003; a configured credential must match', async () => {
    server.answer = undefined;
    for (const authorization of [null, 'Bearer x', 'Basic', `Basic ${Buffer.from('AC1:').toString('base64')}`]) {
      const { status, body } = await lookup('+447700900123', { authorization });
      assert.equal(status, 401, String(authorization));
      assert.deepEqual(body, twilioError(401, 20003, 'Authenticate'));
    }
    const strict = await startTwilioServer({ lookupCredentials: { user: accountSID, password: authToken } });
    try {
      assert.equal((await lookup('+447700900123', { target: strict })).status, 200);
      assert.equal((await lookup('+447700900123', { target: strict, authorization: basicAuth(accountSID, 'wrong-token') })).status, 401);
    } finally {
      await strict.close();
    }
  });

  test('the scripted faults apply: any status, silence', async () => {
    server.answer = answerWith(429, twilioError(429, 20429, 'Too Many Requests'));
    const throttled = await lookup('+447700900123');
    assert.equal(throttled.status, 429);
    assert.equal(throttled.body.code, 20429);
    server.answer = answerWith(500, twilioError(500, 20500, 'Internal Server Error'));
    assert.equal((await lookup('+447700900123')).status, 500);
    server.answer = () => {}; // never respond
    const count = server.requests.length;
    await assert.rejects(
      fetch(`${server.url}/v2/PhoneNumbers/+447700900123?Fields=sms_pumping_risk`, {
        headers: { authorization: basicAuth() },
        signal: AbortSignal.timeout(200),
      }),
      { name: 'TimeoutError' }
    );
    assert.equal(server.requests.length, count + 1, 'the silent request was recorded');
    server.answer = undefined;
  });
});
