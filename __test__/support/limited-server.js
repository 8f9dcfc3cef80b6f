// A Twilio with its per-account concurrency limit: a request that arrives while `limit`
// requests are being processed is answered at once with 429 (Twilio's 20429 JSON, "not
// processed"); any other is answered 201 after `delayMs`. Every code it accepts is counted,
// so a test can prove that none was lost and none was sent twice.
//
// Codes are expected as `<sender>-<n>` in the message body, so the peak in flight can also be
// told per sender (one sender = one process).
import { startTwilioServer, twilioError } from '../../support/twilio-server.js';

const TOO_MANY = JSON.stringify(twilioError(429, 20429, 'Too Many Requests'));

/** The code in a body rendered from a `… {{code}}` template: its last word. */
const codeOf = (record) => (new URLSearchParams(record.body).get('Body') ?? '').split(' ').at(-1);

/**
 * With `gate`, the accepted requests are held until the first request above `limit` arrives
 * (then each is answered after `delayMs` as usual), so the limit is hit however slowly the
 * machine runs, as long as the clients together keep more than `limit` requests in flight:
 * the held requests keep their windows full until that one comes. Without it, hitting the
 * limit takes more than `limit` requests arriving within one `delayMs`.
 */
export async function startLimitedServer({ limit = 100, delayMs = 50, retryAfter, gate = false } = {}) {
  let processing = 0;
  let open;
  const opened = gate ? new Promise((resolve) => (open = resolve)) : undefined;
  let safety;
  let inFlight = 0;
  const senders = new Map();
  const stats = {
    requests: 0,
    rejected: 0,
    /** Most requests in the handler at once, accepted or not. */
    peakInFlight: 0,
    /** Most requests being processed at once: at most `limit` by construction. */
    peakProcessing: 0,
    /** Per sender, most of its requests in the handler at once. */
    peakBySender: new Map(),
    /** code -> how many times it was accepted. */
    delivered: new Map(),
    firstRequestAt: undefined,
    lastAnswerAt: undefined,
  };
  const server = await startTwilioServer({
    respond: async (req, record, res) => {
      const code = codeOf(record);
      const sender = code.split('-')[0];
      stats.requests += 1;
      stats.firstRequestAt ??= performance.now();
      inFlight += 1;
      stats.peakInFlight = Math.max(stats.peakInFlight, inFlight);
      const mine = (senders.get(sender) ?? 0) + 1;
      senders.set(sender, mine);
      stats.peakBySender.set(sender, Math.max(stats.peakBySender.get(sender) ?? 0, mine));
      try {
        if (processing >= limit) {
          open?.();
          stats.rejected += 1;
          res.writeHead(429, {
            'content-type': 'application/json',
            ...(retryAfter === undefined ? {} : { 'retry-after': retryAfter }),
          });
          res.end(TOO_MANY);
          return true;
        }
        processing += 1;
        stats.peakProcessing = Math.max(stats.peakProcessing, processing);
        try {
          if (opened) {
            // Only a failing test waits this long; it then fails on its own assertions, not a hang.
            safety ??= setTimeout(open, 30_000).unref();
            await opened;
          }
          await new Promise((resolve) => setTimeout(resolve, delayMs));
        } finally {
          processing -= 1;
        }
        stats.delivered.set(code, (stats.delivered.get(code) ?? 0) + 1);
        return false; // the default 201 answer
      } finally {
        inFlight -= 1;
        senders.set(sender, senders.get(sender) - 1);
        stats.lastAnswerAt = performance.now();
      }
    },
  });
  return Object.assign(server, { stats });
}
