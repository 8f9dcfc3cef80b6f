#!/usr/bin/env node
// Sends one verification SMS through the real connector, the way Logto calls it.
//
//   node demo/demo.js [--to +15551234567] [--type SignIn] [--code 123456]
//   node demo/demo.js preview [--config file.json] [--code 123456]
//
// `preview` sends nothing: for every template of the config (default: Logto's default
// templates from lib/index.js) it prints the rendered body, its encoding and SMS segment count,
// and warns when a six-digit code makes a template cost more than one segment.
//
// Without Twilio credentials it starts a Twilio-compatible server on 127.0.0.1, points the
// connector at it and prints what that "Twilio" received. With TWILIO_ACCOUNT_SID,
// TWILIO_AUTH_TOKEN and TWILIO_MESSAGING_SERVICE_SID set (and --to), it sends a real SMS.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { startTwilioServer } from '../__test__/support/twilio-server.js';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    to: { type: 'string' },
    type: { type: 'string', default: 'SignIn' },
    code: { type: 'string', default: String(Math.floor(100_000 + Math.random() * 900_000)) },
    config: { type: 'string' },
  },
});

if (positionals[0] === 'preview') {
  process.exitCode = await preview();
  process.exit();
} else if (positionals.length > 0) {
  console.error(`Unknown mode ${JSON.stringify(positionals[0])}; use no mode (send) or "preview".`);
  process.exit(2);
}

async function preview() {
  const { TwilioSmsConnector } = await import('../index.js');
  const { defaultMetadata } = await import('../lib/index.js');
  // Preview needs no credentials; placeholders satisfy the config guard.
  const config = args.config
    ? JSON.parse(readFileSync(args.config, 'utf8'))
    : {
        accountSID: 'AC00000000000000000000000000000000',
        authToken: 'preview',
        fromMessagingServiceSID: 'MG00000000000000000000000000000000',
        templates: defaultMetadata.formItems.find((item) => item.key === 'templates').defaultValue,
      };
  let connector;
  try {
    connector = new TwilioSmsConnector(config);
  } catch (error) {
    console.error(`Config rejected: ${error.code}: ${error.message}`);
    return 1;
  }
  // Six digits, like Logto's codes: the length is what matters for the segment count.
  const code = /^\d{6}$/.test(args.code) ? args.code : '123456';
  const payload = { code, application: { name: 'Demo App' } };
  console.log(`Previewing ${config.templates.length} templates from ${args.config ?? 'Logto\'s defaults'} with code ${code}:\n`);
  let warnings = 0;
  for (const template of config.templates) {
    const label = template.locale ? `${template.usageType} [${template.locale}]` : template.usageType;
    const result = connector.preview(template.usageType, payload, template.locale);
    const chosen = result.template;
    if (chosen.content !== template.content || (chosen.locale ?? null) !== (template.locale ?? null) || chosen.usageType !== template.usageType) {
      console.log(`${label}: never used (an earlier ${chosen.usageType}${chosen.locale ? ` [${chosen.locale}]` : ''} template wins)\n`);
      continue;
    }
    const unit = result.encoding === 'GSM-7' ? 'septets' : 'UTF-16 units';
    console.log(`${label}: ${result.segments} segment${result.segments === 1 ? '' : 's'}, ${result.encoding}, ${result.units} ${unit}`);
    console.log(`  ${JSON.stringify(result.body)}`);
    if (result.segments > 1) {
      warnings += 1;
      console.log(`  WARNING: ${result.segments} segments with a six-digit code: each SMS is billed ${result.segments} times${result.encoding === 'UCS-2' ? ' (a non-GSM character forces UCS-2, 70 characters per segment; smartEncoded may help)' : ''}.`);
    }
    console.log();
  }
  console.log(warnings ? `${warnings} template(s) take more than one segment.` : 'Every template fits in one segment.');
  return 0;
}

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
