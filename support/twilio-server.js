// A local stand-in for Twilio's REST API (HTTP or HTTPS) that records every
// request verbatim, so tests can compare exactly what a connector sent.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';

const MESSAGES_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/;
const LOOKUP_PATH = /^\/v2\/PhoneNumbers\/([^/]+)$/;

/** Twilio prints dates in RFC 2822 form: "Thu, 24 Aug 2023 05:01:45 +0000". */
const twilioDate = (date) => date.toUTCString().replace('GMT', '+0000');

const safeDecode = (text) => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};

/** Twilio's JSON error shape. */
export function twilioError(status, code, message) {
  return {
    code,
    message,
    more_info: `https://www.twilio.com/docs/errors/${code}`,
    status,
  };
}

/** A Message resource as the Messages API returns it on 201, built from the posted form. */
export function messageResource(accountSid, form) {
  const field = (name) => form.find(([key]) => key === name)?.[1] ?? null;
  const sid = `SM${randomBytes(16).toString('hex')}`;
  const now = twilioDate(new Date());
  const uri = `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`;
  return {
    account_sid: accountSid,
    api_version: '2010-04-01',
    body: field('Body'),
    date_created: now,
    date_sent: null,
    date_updated: now,
    direction: 'outbound-api',
    error_code: null,
    error_message: null,
    from: field('From'),
    messaging_service_sid: field('MessagingServiceSid'),
    num_media: '0',
    num_segments: '1',
    price: null,
    price_unit: 'USD',
    sid,
    status: 'queued',
    subresource_uris: { media: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}/Media.json` },
    to: field('To'),
    uri,
  };
}

/**
 * Lookup v2's `sms_pumping_risk` for a number no test configured: a low-risk number that is not
 * blocked (the fields of the OpenAPI description's `SmsPumpingRiskInfo`).
 */
export const DEFAULT_PUMPING_RISK = Object.freeze({
  carrier_risk_category: 'low',
  number_blocked: false,
  number_blocked_date: null,
  number_blocked_last_3_months: false,
  sms_pumping_risk_score: 0,
  error_code: null,
});

/**
 * A Lookup v2 phone number resource as `GET /v2/PhoneNumbers/{number}` returns it: every field
 * of the OpenAPI description's `LookupResponse`. Only the default outputs (`phone_number`,
 * `valid`, `validation_errors`) and the packages asked for in `Fields` are filled; this
 * stand-in knows no country data, so `calling_country_code`, `country_code` and
 * `national_format` stay null. A number with fewer than 8 or more than 15 digits is answered
 * as Twilio's `fetchInvalid` example: `valid: false`, its validation error, every package null.
 *
 * @param {string} number the number as asked (E.164)
 * @param {string[]} fields the `Fields` query's packages
 * @param {object|null|undefined} risk this number's `sms_pumping_risk` (merged over
 *   DEFAULT_PUMPING_RISK), or null for a package that gave no answer
 */
export function lookupResource(number, fields, risk) {
  const digits = number.replace(/^\+/, '').length;
  const validationErrors = digits < 8 ? ['TOO_SHORT'] : digits > 15 ? ['TOO_LONG'] : [];
  const valid = validationErrors.length === 0;
  const pumping = !valid || !fields.includes('sms_pumping_risk') || risk === null ? null : { ...DEFAULT_PUMPING_RISK, ...risk };
  return {
    calling_country_code: null,
    country_code: null,
    phone_number: number,
    national_format: null,
    valid,
    validation_errors: validationErrors,
    caller_name: null,
    sim_swap: null,
    call_forwarding: null,
    line_status: null,
    line_type_intelligence: null,
    identity_match: null,
    reassigned_number: null,
    sms_pumping_risk: pumping,
    phone_number_quality_score: null,
    pre_fill: null,
    url: `https://lookups.twilio.com/v2/PhoneNumbers/${number}`,
  };
}

/** `user:password` from a Basic `Authorization` header, or null when it is not one. */
const basicCredential = (header) => {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header ?? '');
  if (!match) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0 || colon === decoded.length - 1) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
};

const sendJson = (res, status, value) => {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
};

/**
 * Start the fake Twilio on an ephemeral port.
 *
 * @param {object} [options]
 * @param {{key: string, cert: string}} [options.tls] serve HTTPS with this key/cert
 * @param {(req, record, res) => unknown} [options.respond] hook run after the body is
 *   read; if it ended (or destroyed) the response, or returned `true`, the default
 *   Twilio answer is skipped.
 * @param {string} [options.host] loopback address to listen on ('127.0.0.1' or '::1')
 * @param {number} [options.port] port to listen on (default: an ephemeral one)
 * @param {{user: string, password: string}} [options.lookupCredentials] the only Basic
 *   credential Lookup accepts; without it, any well-formed one (a missing or malformed
 *   `Authorization` is Twilio's 401, error 20003, either way)
 * @returns {Promise<{url, port, requests, connections, tlsClientErrors, pumpingRisk, close}>}
 *   `requests` entries: { method, url, headers, rawHeaders, body, form, connectionId,
 *   servername }. `connections` counts accepted TCP connections. `pumpingRisk` is a Map from
 *   an E.164 number to what Lookup answers as its `sms_pumping_risk`: fields merged over
 *   DEFAULT_PUMPING_RISK (e.g. `{ sms_pumping_risk_score: 95, number_blocked: true }`), or null.
 */
export async function startTwilioServer({ tls, respond, host = '127.0.0.1', port: wantedPort = 0, lookupCredentials } = {}) {
  if (!['127.0.0.1', '::1', 'localhost'].includes(host)) {
    throw new Error(`refusing to listen on non-loopback address ${host}`);
  }
  const requests = [];
  const pumpingRisk = new Map();
  const sockets = new Set();
  const socketIds = new WeakMap();
  let connections = 0;
  let tlsClientErrors = 0;

  const handler = async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks).toString('utf8');
    const record = {
      method: req.method,
      url: req.url,
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      body,
      form: [...new URLSearchParams(body)],
      connectionId: socketIds.get(req.socket),
      // TLS SNI the client sent (false/undefined when none, e.g. for an IP address).
      servername: req.socket.servername || null,
    };
    requests.push(record);

    try {
      if (respond) {
        const handled = await respond(req, record, res);
        if (handled === true || res.writableEnded || res.destroyed) return;
      }
      defaultAnswer(record, res, { pumpingRisk, lookupCredentials });
    } catch (error) {
      if (!res.headersSent) sendJson(res, 500, twilioError(500, 20500, `test server: ${error.message}`));
      else res.destroy(error);
    }
  };

  // Hostile-input tests send 100 kB credentials; Node's default 16 kB header cap would answer
  // them before the test sees what the connector sent.
  const maxHeaderSize = 1 << 20;
  const server = tls ? https.createServer({ key: tls.key, cert: tls.cert, maxHeaderSize }, handler) : http.createServer({ maxHeaderSize }, handler);
  server.keepAliveTimeout = 30_000;

  // 'connection' is the raw TCP accept on both kinds of server.
  server.on('connection', (socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    if (!tls) socketIds.set(socket, connections);
    else socket.connectionId = connections;
  });
  // For HTTPS the request's socket is the TLSSocket wrapping the TCP one.
  server.on('secureConnection', (tlsSocket) => {
    socketIds.set(tlsSocket, tlsSocket._parent?.connectionId ?? connections);
  });
  server.on('tlsClientError', () => {
    tlsClientErrors += 1;
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(wantedPort, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address();
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `${tls ? 'https' : 'http'}://${urlHost}:${port}`,
    port,
    requests,
    pumpingRisk,
    get connections() {
      return connections;
    },
    get tlsClientErrors() {
      return tlsClientErrors;
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/**
 * What Twilio would say: 201 + Message for a Messages POST, Lookup v2's phone number resource
 * for a GET of /v2/PhoneNumbers/{number}, 404 for anything else.
 */
function defaultAnswer(record, res, { pumpingRisk, lookupCredentials }) {
  const [path, query = ''] = record.url.split('?');
  const notFound = () => sendJson(res, 404, twilioError(404, 20404, `The requested resource ${path} was not found`));
  const match = record.method === 'POST' && MESSAGES_PATH.exec(path);
  if (match) {
    sendJson(res, 201, messageResource(safeDecode(match[1]), record.form));
    return;
  }
  const lookup = record.method === 'GET' && LOOKUP_PATH.exec(path);
  if (lookup) {
    const credential = basicCredential(record.headers.authorization);
    const accepted = credential && (!lookupCredentials || (credential.user === lookupCredentials.user && credential.password === lookupCredentials.password));
    if (!accepted) {
      sendJson(res, 401, twilioError(401, 20003, 'Authenticate'));
      return;
    }
    const number = safeDecode(lookup[1]);
    // Not a number at all: nothing to look up.
    if (!/^\+\d+$/.test(number)) {
      notFound();
      return;
    }
    const fields = (new URLSearchParams(query).get('Fields') ?? '').split(',').map((field) => field.trim());
    sendJson(res, 200, lookupResource(number, fields, pumpingRisk.get(number)));
    return;
  }
  notFound();
}

/**
 * A Twilio stand-in whose answer each test scripts: set `server.answer = (record, res) => …`
 * to answer (or stay silent), `undefined` for Twilio's default answer; an answer that returns
 * `false` leaves that request to the default answer.
 */
export async function startScriptedServer(options = {}) {
  let answer;
  const server = await startTwilioServer({
    ...options,
    respond: async (req, record, res) => {
      if (!answer) return false;
      return (await answer(record, res)) !== false;
    },
  });
  return Object.defineProperty(server, 'answer', {
    get: () => answer,
    set: (value) => {
      answer = value;
    },
  });
}

/**
 * A `Retry-After` (seconds) past any deadline a test sets: a 429 carrying it ends the send at
 * once as that 429 (`rate_limit_exceeded`), so a chain of 429s ends after a known number of
 * requests, however fast the machine.
 */
export const RETRY_AFTER_PAST_ANY_DEADLINE = '3600';

/**
 * An answer that throttles every request (Twilio's 429, error 20429): a send's first 429
 * carries `Retry-After: firstRetryAfter(key)`, its later ones RETRY_AFTER_PAST_ANY_DEADLINE;
 * `keyOf(record)` tells the sends apart.
 */
export const throttleOnceThenEnd = (keyOf, firstRetryAfter) => {
  const seen = new Set();
  return (record, res) => {
    const key = keyOf(record);
    const retryAfter = seen.has(key) ? RETRY_AFTER_PAST_ANY_DEADLINE : firstRetryAfter(key);
    seen.add(key);
    answerWith(429, twilioError(429, 20429, 'Too Many Requests'), { 'retry-after': retryAfter })(record, res);
  };
};

/** An answer for a scripted server: this status, body (a string, or JSON) and headers. */
export const answerWith =
  (status, body = '', headers = {}) =>
  (record, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
