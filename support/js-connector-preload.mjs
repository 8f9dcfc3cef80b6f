// Preload (`node --import <this file>`) for a child process running the official
// JS connector: makes its fixed https://api.twilio.com:443 endpoint reach the local
// test server on TWILIO_TEST_PORT without root, /etc/hosts or a proxy.
//
// - dns.lookup / dns.promises.lookup answer 127.0.0.1 (or ::1 for family 6) for
//   api.twilio.com and refuse every other non-loopback name.
// - tls.connect and net.connect / net.createConnection rewrite a connection to
//   api.twilio.com (or loopback) on port 443 to 127.0.0.1:TWILIO_TEST_PORT and keep
//   `servername: 'api.twilio.com'`, so SNI and the certificate's host check still
//   see the real name. Node's https Agent looks `tls.connect` up on the module object
//   at call time, which is why patching the default export works.
// - net.Socket.prototype.connect, the choke point every TCP connection passes,
//   refuses anything but loopback: nothing can leave the machine from this process.
// The test CA is trusted through NODE_EXTRA_CA_CERTS in the child's environment.
import dns from 'node:dns';
import dnsPromises from 'node:dns/promises';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';
import tls from 'node:tls';

const TWILIO_HOST = 'api.twilio.com';
const TEST_PORT = Number(process.env.TWILIO_TEST_PORT);
if (!Number.isInteger(TEST_PORT) || TEST_PORT <= 0) {
  throw new Error('js-connector-preload: TWILIO_TEST_PORT must be set to the test server port');
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '[::1]', 'localhost']);
const normalise = (host) =>
  String(host ?? 'localhost')
    .toLowerCase()
    .replace(/\.$/, '');
const isTwilio = (host) => normalise(host) === TWILIO_HOST;
const isLoopback = (host) => LOOPBACK.has(normalise(host));

const blocked = (what) => Object.assign(new Error(`js-connector-preload: blocked non-loopback ${what}`), { code: 'ETESTBLOCKED' });

// --- DNS ---------------------------------------------------------------------

const lookupAnswer = (family) => (family === 6 ? { address: '::1', family: 6 } : { address: '127.0.0.1', family: 4 });

const originalLookup = dns.lookup;
dns.lookup = function lookup(hostname, options, callback) {
  if (typeof options === 'function') {
    callback = options;
    options = {};
  }
  const opts = typeof options === 'number' ? { family: options } : (options ?? {});
  if (isTwilio(hostname)) {
    const answer = lookupAnswer(opts.family);
    process.nextTick(() => (opts.all ? callback(null, [answer]) : callback(null, answer.address, answer.family)));
    return {};
  }
  if (!isLoopback(hostname) && net.isIP(hostname) === 0) {
    const error = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
      code: 'ENOTFOUND',
      hostname,
      syscall: 'getaddrinfo',
    });
    process.nextTick(() => callback(error));
    return {};
  }
  return originalLookup.call(this, hostname, options, callback);
};

const originalPromisesLookup = dnsPromises.lookup;
const promisesLookup = async function lookup(hostname, options) {
  const opts = typeof options === 'number' ? { family: options } : (options ?? {});
  if (isTwilio(hostname)) {
    const answer = lookupAnswer(opts.family);
    return opts.all ? [answer] : answer;
  }
  if (!isLoopback(hostname) && net.isIP(hostname) === 0) {
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
  }
  return originalPromisesLookup.call(this, hostname, options);
};
dnsPromises.lookup = promisesLookup;
if (dns.promises !== dnsPromises) dns.promises.lookup = promisesLookup;

// --- connections -------------------------------------------------------------

/** tls.connect / net.connect accept (options[, cb]) or (port[, host][, options][, cb]). */
function normaliseConnectArgs(args) {
  if (args[0] !== null && typeof args[0] === 'object') {
    return { options: { ...args[0] }, rest: args.slice(1) };
  }
  const options = {};
  let index = 0;
  if (typeof args[index] === 'number' || typeof args[index] === 'string') options.port = args[index++];
  if (typeof args[index] === 'string') options.host = args[index++];
  if (args[index] !== null && typeof args[index] === 'object') Object.assign(options, args[index++]);
  return { options, rest: args.slice(index) };
}

/** Send api.twilio.com:443 (or loopback:443) to the test server, keeping the SNI name. */
function redirect(options, { tlsConnection }) {
  if (options.path) return options; // Unix socket
  const host = options.host ?? options.hostname ?? 'localhost';
  if (Number(options.port) === 443 && (isTwilio(host) || isLoopback(host))) {
    if (tlsConnection && isTwilio(host)) options.servername ??= TWILIO_HOST;
    options.host = '127.0.0.1';
    delete options.hostname;
    options.port = TEST_PORT;
  }
  return options;
}

const originalTlsConnect = tls.connect;
tls.connect = function connect(...args) {
  const { options, rest } = normaliseConnectArgs(args);
  return originalTlsConnect.call(this, redirect(options, { tlsConnection: true }), ...rest);
};

const originalNetConnect = net.connect;
net.connect = net.createConnection = function connect(...args) {
  const { options, rest } = normaliseConnectArgs(args);
  return originalNetConnect.call(this, redirect(options, { tlsConnection: false }), ...rest);
};

// Last line of defence: whatever path a connection takes, it must be loopback.
const originalSocketConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function connect(...args) {
  // Internally net passes [normalizedArgs] (an array) as the first argument.
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  const options = first !== null && typeof first === 'object' ? first : normaliseConnectArgs(args).options;
  if (!options.path && !isLoopback(options.host ?? 'localhost')) {
    const error = blocked(`connection to ${options.host}:${options.port}`);
    process.nextTick(() => this.destroy(error));
    return this;
  }
  return originalSocketConnect.apply(this, args);
};

// Make `import { connect } from 'node:tls'` (and friends) see the patched functions.
syncBuiltinESMExports();
