// The real Logto core (1.43.0 RC, built from source by support/logto-core.js) with each Twilio
// SMS connector in turn: the official JS connector 1.4.4 (linked as the image links it), then
// ours (the swap README's "Install into Logto" documents, refused first with both installed).
// Every scenario goes through core's real APIs (Management API with an M2M token, the
// Experience API with an OIDC interaction, the Console's test endpoint) against the Twilio
// stand-in over TLS, and records what core answered and what Twilio saw for each connector.
// The last test compares the two records: every difference must be one docs/differences.md
// lists, and every listed one must show.
//
// Runs on Node 22 (core needs ^22.14): scripts/test-suite.sh node22-gnu and node22-musl run
// it; the system runtime (Node 20) leaves it out (see scripts/test-suite.sh).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { accountSID, authToken, basicAuth, validConfig } from './fixtures.js';
import { makePki } from '../support/certs.js';
import {
  addConnector,
  apiClient,
  assertCoreNode,
  connectorsOf,
  createInstance,
  enablePhoneSignUp,
  linkOfficialConnector,
  managementToken,
  packConnector,
  prepareLogtoCore,
  removeConnector,
  seedDatabase,
  startCore,
  startInteraction,
  startPostgres,
  TWILIO_CONNECTOR_ID,
} from '../support/logto-core.js';
import { answerWith, RETRY_AFTER_PAST_ANY_DEADLINE, startScriptedServer, twilioError } from '../support/twilio-server.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const OFFICIAL_PACKAGE = '@logto/connector-twilio-sms';
const OUR_PACKAGE = 'connector-twilio-sms-native';
// Our send deadline in core (TWILIO_SMS_NATIVE_TIMEOUT_MS): short, so the 429 and silence
// scenarios end soon. The stand-in holds a silent request far longer (SILENCE_HOLD_MS) before
// it cuts the connection, so who gave up first is decided by what the stand-in sees.
const OUR_TIMEOUT_MS = 2000;
const SILENCE_HOLD_MS = 5 * OUR_TIMEOUT_MS;

const work = mkdtempSync(join(tmpdir(), 'logto-core-test-'));
const pki = makePki(join(tmpdir(), 'connector-twilio-sms-native-pki'));

let prepared;
let postgres;
let twilio;
let tarball;
/** What core answered and Twilio saw, per connector and scenario (compared at the end). */
const observed = { official: {}, ours: {} };
const running = new Set();

before(async () => {
  // No silent skip: on another Node this fails saying why.
  assertCoreNode();
  twilio = await startScriptedServer({ tls: { key: pki.key, cert: pki.cert } });
  // The tarball `connector add` takes (as logto.test.js packs it: the binaries built here).
  tarball = packConnector(work);
  prepared = await prepareLogtoCore();
  postgres = await startPostgres();
  await seedDatabase(prepared, postgres);
  // One seeded database per connector, copied from the seeded one (a template copy is instant).
  await postgres.psql('create database logto_official template logto', 'postgres');
  await postgres.psql('create database logto_ours template logto', 'postgres');
});

after(async () => {
  for (const logto of running) await logto.stop();
  await postgres?.stop();
  await twilio?.close();
  rmSync(work, { recursive: true, force: true });
});

/** The environment each connector needs to reach the stand-in (and nothing else). */
const connectorRuntime = (kind) =>
  kind === 'official'
    ? {
        // The official connector posts to https://api.twilio.com:443; the preload sends it here.
        nodeArgs: ['--import', join(root, 'support', 'js-connector-preload.mjs')],
        env: { TWILIO_TEST_PORT: String(twilio.port), NODE_EXTRA_CA_CERTS: pki.caPath },
      }
    : {
        nodeArgs: [],
        env: {
          TWILIO_SMS_NATIVE_BASE_URL: `https://127.0.0.1:${twilio.port}`,
          TWILIO_SMS_NATIVE_TIMEOUT_MS: String(OUR_TIMEOUT_MS),
          NODE_EXTRA_CA_CERTS: pki.caPath,
        },
      };

const start = async (instance, kind, options = {}) => {
  const { nodeArgs, env } = connectorRuntime(kind);
  const logto = await startCore(instance, { databaseUrl: postgres.url(`logto_${kind}`), nodeArgs, env, ...options });
  running.add(logto);
  return logto;
};

const stop = async (logto) => {
  running.delete(logto);
  return logto.stop();
};

/** A connected Logto: core, its Management API client, the saved connector's id. */
const connect = async (logto, kind) => {
  const token = await managementToken(logto, { psql: (sql) => postgres.psql(sql, `logto_${kind}`) });
  return { kind, logto, api: apiClient(logto.url, { token }), db: (sql) => postgres.rows(sql, `logto_${kind}`) };
};

/** The Messages requests the stand-in got since `from` (an index into twilio.requests). */
const messagesSince = (from) => twilio.requests.slice(from).filter((request) => request.url.endsWith('/Messages.json'));
const field = (request, name) => request.form.find(([key]) => key === name)?.[1];
const codeIn = (request) => /\b(\d{6})\b/.exec(field(request, 'Body'))?.[1];
let phoneCounter = 0;
/** A fresh number per send: Logto keeps one code per interaction and number. */
const newPhone = () => `1555${String(Date.now() % 1e6).padStart(6, '0')}${String((phoneCounter += 1) % 10)}`;

const templates = (overrides = {}) => validConfig(overrides).templates;

// --- the scenarios, the same for both connectors --------------------------------------------

/** Saves the connector through the Management API and turns on phone sign-up. */
async function createConnectorAndEnablePhoneSignUp(logto) {
  const created = await logto.api('POST', '/api/connectors', { connectorId: TWILIO_CONNECTOR_ID, config: validConfig() });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  logto.connectorId = created.body.id;
  await enablePhoneSignUp(logto.api);
}

async function signUpThenSignIn(logto) {
  const phone = newPhone();
  const codes = [];
  for (const event of ['Register', 'SignIn']) {
    const interaction = await startInteraction(logto.logto, event);
    const from = twilio.requests.length;
    const sent = await interaction.sendCode(phone);
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    const [message] = messagesSince(from);
    assert.ok(message, 'Twilio got the message');
    assert.equal(field(message, 'To'), `+${phone}`);
    // The code Twilio was asked to text is the one Logto stored for this verification.
    const [stored] = await logto.db(`select code, type from passcodes where interaction_jti = '${sent.body.verificationId}'`);
    assert.equal(codeIn(message), stored.code);
    assert.equal(stored.type, event);
    codes.push([event, field(message, 'Body').replace(stored.code, '<code>')]);
    const verified = await interaction.api('POST', '/api/experience/verification/verification-code/verify', {
      identifier: { type: 'phone', value: phone },
      verificationId: sent.body.verificationId,
      code: stored.code,
    });
    assert.equal(verified.status, 200, JSON.stringify(verified.body));
    const identified = await interaction.api('POST', '/api/experience/identification', { verificationId: verified.body.verificationId });
    assert.equal(identified.status, event === 'Register' ? 201 : 204, JSON.stringify(identified.body));
    const claims = await interaction.finish();
    const [user] = await logto.db(`select id from users where primary_phone = '${phone}'`);
    assert.equal(claims.sub, user.id, `${event}: the ID token is the phone user's`);
  }
  observed[logto.kind].signUpThenSignIn = codes;
}

async function consoleTestEndpoint(logto) {
  const phone = newPhone();
  const outcomes = [];
  const unsaved = validConfig({ templates: templates().map((t) => (t.usageType === 'Generic' ? { ...t, content: 'Console test {{code}}' } : t)) });
  const saved = (await logto.api('GET', `/api/connectors/${logto.connectorId}`)).body.config;
  const invalid = validConfig({ authToken: undefined });
  for (const [name, config] of [
    ['unsaved config', unsaved],
    ['saved config', saved],
    ['invalid config', invalid],
  ]) {
    const from = twilio.requests.length;
    const tested = await logto.api('POST', `/api/connectors/${TWILIO_CONNECTOR_ID}/test`, { phone, config });
    const [message] = messagesSince(from);
    outcomes.push([name, tested.status, tested.body?.code ?? null, message ? field(message, 'Body') : null]);
  }
  assert.deepEqual(outcomes.slice(0, 1), [['unsaved config', 204, null, 'Console test 000000']]);
  assert.equal(outcomes[1][1], 204, 'the saved config tests fine');
  assert.deepEqual(outcomes[2].slice(0, 3), ['invalid config', 400, 'connector.invalid_config']);
  observed[logto.kind].consoleTestEndpoint = outcomes;
}

async function connectorList(logto) {
  // Usage Records answer for our getUsage; the official connector has none.
  twilio.answer = (record, res) => {
    if (!record.url.includes('/Usage/Records.json')) return false;
    answerWith(200, {
      first_page_uri: record.url,
      next_page_uri: null,
      page: 0,
      page_size: 50,
      uri: record.url,
      usage_records: [{ account_sid: accountSID, category: 'sms-outbound', count: '42', count_unit: 'messages' }],
    })(record, res);
  };
  try {
    const listed = await logto.api('GET', '/api/connectors');
    assert.equal(listed.status, 200);
    const connector = listed.body.find((entry) => entry.connectorId === TWILIO_CONNECTOR_ID);
    assert.ok(connector, 'the Twilio connector is listed');
    assert.equal(connector.id, logto.connectorId);
    // Core waits 3 s for getUsage and leaves usage out when it is late or fails: a number
    // here is our getUsage's answer, in time.
    observed[logto.kind].connectorList = { usage: connector.usage ?? null, formKeys: connector.formItems.map((item) => item.key).includes('authMethod') };
    // Ours reports the stand-in's 42 messages; the JS connector has no getUsage.
    assert.deepEqual(observed[logto.kind].connectorList, logto.kind === 'ours' ? { usage: 42, formKeys: true } : { usage: null, formKeys: false });
  } finally {
    twilio.answer = undefined;
  }
}

/** Twilio failures at the send-code step: what the end user's request gets from Logto. */
const failureCases = () => [
  ['400', answerWith(400, twilioError(400, 21211, "The 'To' number is not a valid phone number."))],
  ['401', answerWith(401, twilioError(401, 20003, 'Authenticate'))],
  [
    '429 with Retry-After, then accepted',
    (() => {
      let first = true;
      return (record, res) => {
        if (!first) return false;
        first = false;
        answerWith(429, twilioError(429, 20429, 'Too Many Requests'), { 'retry-after': '1' })(record, res);
      };
    })(),
  ],
  ['429 with a Retry-After past the deadline', answerWith(429, twilioError(429, 20429, 'Too Many Requests'), { 'retry-after': RETRY_AFTER_PAST_ANY_DEADLINE })],
  ['429 without Retry-After', answerWith(429, twilioError(429, 20429, 'Too Many Requests'))],
  ['503', answerWith(503, twilioError(503, 20503, 'Service Unavailable'))],
  [
    'silence',
    (record, res) => {
      // Holds the request; cuts it only if the connector has not given up by then.
      const timer = setTimeout(() => {
        record.cut = true;
        res.destroy();
      }, SILENCE_HOLD_MS);
      res.on('close', () => clearTimeout(timer));
    },
  ],
];

async function twilioFailures(logto) {
  const interaction = await startInteraction(logto.logto, 'Register');
  const outcomes = {};
  try {
    for (const [name, answer] of failureCases()) {
      twilio.answer = answer;
      const from = twilio.requests.length;
      const sent = await interaction.sendCode(newPhone());
      const requests = messagesSince(from);
      outcomes[name] = {
        status: sent.status,
        code: sent.body?.code ?? null,
        twilioRequests: requests.length > 1 ? 'several' : requests.length,
        ...(name === 'silence' ? { cutByTwilio: Boolean(requests[0]?.cut) } : {}),
      };
    }
  } finally {
    twilio.answer = undefined;
  }
  observed[logto.kind].twilioFailures = outcomes;
  assert.deepEqual(outcomes, EXPECTED_FAILURES[logto.kind]);
}

const general = (twilioRequests = 1) => ({ status: 400, code: 'connector.general', twilioRequests });
/**
 * What the end user's send-code request gets from Logto for each Twilio answer. The JS
 * connector turns every error status into `general` (Logto: 400) and waits on a silent
 * Twilio until the connection drops, then lets got's error escape (Logto: 500). Ours retries
 * a 429 within its deadline and ends in `rate_limit_exceeded` (Logto: 429), and gives up on
 * silence at its deadline with `general`.
 */
const EXPECTED_FAILURES = {
  official: {
    400: general(),
    401: general(),
    '429 with Retry-After, then accepted': general(),
    '429 with a Retry-After past the deadline': general(),
    '429 without Retry-After': general(),
    503: general(),
    silence: { status: 500, code: null, twilioRequests: 1, cutByTwilio: true },
  },
  ours: {
    400: general(),
    401: general(),
    '429 with Retry-After, then accepted': { status: 200, code: null, twilioRequests: 'several' },
    '429 with a Retry-After past the deadline': { status: 429, code: 'connector.rate_limit_exceeded', twilioRequests: 1 },
    '429 without Retry-After': { status: 429, code: 'connector.rate_limit_exceeded', twilioRequests: 'several' },
    503: general(),
    silence: { ...general(), cutByTwilio: false },
  },
};

async function configEditWithoutRestart(logto) {
  const edited = validConfig({ templates: templates().map((t) => (t.usageType === 'Register' ? { ...t, content: 'Edited sign up code {{code}}' } : t)) });
  const patched = await logto.api('PATCH', `/api/connectors/${logto.connectorId}`, { config: edited });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  const interaction = await startInteraction(logto.logto, 'Register');
  const from = twilio.requests.length;
  const sent = await interaction.sendCode(newPhone());
  assert.equal(sent.status, 200, JSON.stringify(sent.body));
  assert.match(field(messagesSince(from)[0], 'Body'), /^Edited sign up code \d{6}$/);
  // Back to the original for the scenarios after this one.
  assert.equal((await logto.api('PATCH', `/api/connectors/${logto.connectorId}`, { config: validConfig() })).status, 200);
}

async function secretsStayOut(logto) {
  const basic = basicAuth().slice('Basic '.length);
  const log = logto.logto.log();
  const [{ count: logRows }] = await logto.db('select count(*)::int as count from logs');
  const leaks = await logto.db(`select key from logs where payload::text like '%${authToken}%' or payload::text like '%${basic}%'`);
  const at = [authToken, basic].map((secret) => log.indexOf(secret)).find((index) => index >= 0);
  if (at !== undefined && logto.kind === 'ours') {
    // Where it shows, with the secret masked, for whoever reads the failure.
    console.log(
      `${logto.kind}: the auth token in core's output: ${log
        .slice(Math.max(0, at - 1500), at + 300)
        .replaceAll(authToken, '<authToken>')
        .replaceAll(basic, '<basic>')}`
    );
  }
  observed[logto.kind].secretsStayOut = {
    inCoreOutput: log.includes(authToken) || log.includes(basic),
    inLogsTable: leaks.map(({ key }) => key),
  };
  assert.ok(logRows > 0, "core's logs table has the interactions' entries");
  if (logto.kind === 'ours') {
    assert.ok(!log.includes(authToken) && !log.includes(basic), "the auth token is not in core's output");
    assert.deepEqual(leaks, [], "the auth token is not in core's logs table");
  }
}

const SCENARIOS = [
  ['a new user signs up with a phone number through the Experience API and signs in, with the codes Twilio received', signUpThenSignIn],
  ["the Console's test endpoint: an unsaved config, the saved config, an invalid one", consoleTestEndpoint],
  ["the connector list shows the connector (and its usage, within core's 3 s budget)", connectorList],
  ['Twilio answering 400, 401, 429, 503 or nothing: what Logto answers the end user', twilioFailures],
  ['a config edit through the Management API takes effect without a restart', configEditWithoutRestart],
  ["the auth token stays out of core's output and its logs table", secretsStayOut],
];

describe('the official JS connector 1.4.4 in Logto core', () => {
  let logto;
  before(async () => {
    const instance = createInstance(prepared, join(work, 'official'));
    await linkOfficialConnector(instance);
    logto = await connect(await start(instance, 'official'), 'official');
    await createConnectorAndEnablePhoneSignUp(logto);
  });
  after(async () => logto && stop(logto.logto));
  for (const [title, scenario] of SCENARIOS) test(title, () => scenario(logto));
});

describe('connector-twilio-sms-native in Logto core', () => {
  let instance;
  let logto;
  before(async () => {
    // The image's state: the official connector linked; then ours added from the tarball.
    instance = createInstance(prepared, join(work, 'ours'));
    await linkOfficialConnector(instance);
    await addConnector(instance, tarball);
  });
  after(async () => logto && stop(logto.logto));

  test('core refuses to start with both Twilio connectors installed', async () => {
    assert.deepEqual(connectorsOf(instance), ['@logto-connector-twilio-sms', OUR_PACKAGE]);
    const refused = await start(instance, 'ours', { expectFailure: true });
    const output = await stop(refused);
    assert.match(output, /connector\.more_than_one_connector_factory/);
    assert.match(output, new RegExp(TWILIO_CONNECTOR_ID));
  });

  test('after the documented `connector remove` of the official one, core serves with ours', async () => {
    await removeConnector(instance, OFFICIAL_PACKAGE);
    assert.deepEqual(connectorsOf(instance), [OUR_PACKAGE]);
    logto = await connect(await start(instance, 'ours'), 'ours');
    const factories = await logto.api('GET', '/api/connector-factories');
    const twilioFactory = factories.body.find((factory) => factory.id === TWILIO_CONNECTOR_ID);
    assert.ok(
      twilioFactory.formItems.some((item) => item.key === 'authMethod'),
      "the factory core serves is ours (it has our form's authMethod)"
    );
    await createConnectorAndEnablePhoneSignUp(logto);
    // Core runs on this runtime's libc, with our binary for it (what the loader picked at run
    // time, as in the image): the files mapped into core's process say so.
    const maps = readFileSync(`/proc/${logto.logto.child.pid}/maps`, 'utf8');
    const binaries = [...new Set(maps.match(/connector-twilio-sms-native\.[\w-]+\.node/g))];
    assert.deepEqual(binaries, [`connector-twilio-sms-native.linux-${process.arch}-${prepared.libc === 'musl' ? 'musl' : 'gnu'}.node`]);
    assert.equal(/ld-musl-[\w]+\.so\.1/.test(maps), prepared.libc === 'musl', `core's process is ${prepared.libc}`);
    assert.equal(prepared.libc, process.report.getReport().header.glibcVersionRuntime ? 'glibc' : 'musl', "core's dependencies are this runtime's libc builds");
  });

  for (const [title, scenario] of SCENARIOS) {
    test(title, () => {
      assert.ok(logto, 'core is running with ours (see the test above)');
      return scenario(logto);
    });
  }
});

// Each difference the scenarios show, with the words of docs/differences.md that promise it.
const DEVIATIONS = {
  'connectorList.usage': 'localized templates and `getUsage`',
  'connectorList.formKeys': '**Fields the JS connector does not have**',
  'twilioFailures.429 with Retry-After, then accepted': '**HTTP 429 is retried, then `rate_limit_exceeded`**',
  'twilioFailures.429 with a Retry-After past the deadline': '`rate_limit_exceeded`, not `general`, so Logto answers 429 instead of 400',
  'twilioFailures.429 without Retry-After': '**HTTP 429 is retried, then `rate_limit_exceeded`**',
  'twilioFailures.silence': 'A send has a 10 s deadline in all (the JS connector has none',
  'secretsStayOut.inCoreOutput': "prints whole to its output,\n   the request's `Authorization` header (the auth token, base64)",
};

test('every difference from the JS connector in Logto core is one docs/differences.md lists', () => {
  const section = readFileSync(join(root, 'docs', 'differences.md'), 'utf8');
  const differences = [];
  // Compare scenario by scenario (and case by case for the failures and the list).
  for (const scenario of new Set([...Object.keys(observed.official), ...Object.keys(observed.ours)])) {
    const [official, ours] = [observed.official[scenario], observed.ours[scenario]];
    assert.ok(official !== undefined && ours !== undefined, `${scenario} ran with both connectors`);
    if (typeof official === 'object' && !Array.isArray(official)) {
      for (const key of Object.keys({ ...official, ...ours })) {
        try {
          assert.deepEqual(ours[key], official[key]);
        } catch {
          differences.push(`${scenario}.${key}`);
        }
      }
    } else {
      try {
        assert.deepEqual(ours, official);
      } catch {
        differences.push(scenario);
      }
    }
  }
  const report = JSON.stringify(observed, null, 1);
  for (const difference of differences) {
    assert.ok(DEVIATIONS[difference], `a difference docs/differences.md does not list: ${difference}\n${report}`);
  }
  for (const [difference, words] of Object.entries(DEVIATIONS)) {
    assert.ok(differences.includes(difference), `a listed deviation that did not show: ${difference}\n${report}`);
    assert.ok(section.includes(words), `docs/differences.md says: ${words}`);
  }
});
