// Child process running the official JS connector (@logto/connector-twilio-sms
// 1.4.4) for the differential test. Start it with the preload:
//   node --import ../../support/js-connector-preload.mjs ./js-connector-child.mjs
// with TWILIO_TEST_PORT and NODE_EXTRA_CA_CERTS in the environment.
//
// Protocol: newline-delimited JSON on stdin, `{ id, config, data: { to, type, payload } }`,
// handled strictly one after another; one JSON line per case on stdout:
//   { id, ok: true }
//   { id, ok: false, name, code, data, message }
import { createInterface } from 'node:readline';
import createConnector from '@logto/connector-twilio-sms';

import { jsonSafe } from './json-safe.js';

const connector = await createConnector({
  getConfig: async () => {
    throw new Error('not used');
  },
});

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (!line.trim()) continue;
  const { id, config, data } = JSON.parse(line);
  let result;
  try {
    await connector.sendMessage(data, config);
    result = { id, ok: true };
  } catch (error) {
    result = {
      id,
      ok: false,
      name: error?.name ?? typeof error,
      code: error?.code,
      data: jsonSafe(error?.data),
      message: String(error?.message ?? error),
    };
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
