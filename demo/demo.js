#!/usr/bin/env node
// Sends one verification SMS through the real connector, the way Logto calls it.
//
//   node demo/demo.js [--to +15551234567] [--type SignIn] [--code 123456]
//
// Without Twilio credentials it starts a Twilio-compatible server on 127.0.0.1, points the
// connector at it and prints what that "Twilio" received. With TWILIO_ACCOUNT_SID,
// TWILIO_AUTH_TOKEN and TWILIO_MESSAGING_SERVICE_SID set (and --to), it sends a real SMS.
import { parseArgs } from 'node:util';

import { startTwilioServer } from '../__test__/support/twilio-server.js';

const { values: args } = parseArgs({
  options: {
    to: { type: 'string' },
    type: { type: 'string', default: 'SignIn' },
    code: { type: 'string', default: String(Math.floor(100_000 + Math.random() * 900_000)) },
  },
});

const { TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_MESSAGING_SERVICE_SID } = process.env;
const real = Boolean(TWILIO_ACCOUNT_SID && TWILIO_AUTH_TOKEN && TWILIO_MESSAGING_SERVICE_SID);
if (real && !args.to) {
  console.error('With Twilio credentials set, pass the recipient: --to +15551234567');
  process.exit(2);
}

let server;
if (!real) {
  server = await startTwilioServer();
  // Read by lib/index.js at import: every send goes to the local server.
  process.env.TWILIO_SMS_NATIVE_BASE_URL = server.url;
}
const { default: createConnector } = await import('../lib/index.js');

const config = {
  accountSID: TWILIO_ACCOUNT_SID ?? 'AC00000000000000000000000000000000',
  authToken: TWILIO_AUTH_TOKEN ?? 'demo-auth-token',
  fromMessagingServiceSID: TWILIO_MESSAGING_SERVICE_SID ?? 'MG00000000000000000000000000000000',
  templates: ['Register', 'SignIn', 'ForgotPassword', 'Generic'].map((usageType) => ({
    usageType,
    content: `Your ${usageType} verification code is {{code}}. It expires in 10 minutes.`,
  })),
};

const connector = await createConnector({ getConfig: async () => config });
const to = args.to ?? '+15551234567';
console.log(`Sending a ${args.type} code to ${to} via ${real ? 'api.twilio.com' : server.url} ...`);
try {
  const message = await connector.sendMessage({ to, type: args.type, payload: { code: args.code } });
  console.log(`Twilio accepted it: sid=${message.sid} status=${message.status}`);
  if (server) {
    const [request] = server.requests;
    console.log('\nWhat the Twilio-compatible server received:');
    console.log(`  ${request.method} ${request.url}`);
    console.log(`  Authorization: ${request.headers.authorization.slice(0, 12)}… (Basic accountSID:authToken)`);
    console.log(`  Content-Type: ${request.headers['content-type']}`);
    for (const [key, value] of request.form) {
      console.log(`  ${key} = ${JSON.stringify(value)}`);
    }
  }
} catch (error) {
  console.error(`Failed: ${error.code}: ${error.message}`);
  process.exitCode = 1;
} finally {
  server?.close();
}
