#!/usr/bin/env node
// Sends one verification SMS through the real connector, the way Logto calls it, or previews
// what every template of a config costs. `node demo/demo.js --help` for the usage.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { startTwilioServer } from '../support/twilio-server.js';

const usage = `Usage:
  node demo/demo.js [--to +15551234567] [--type SignIn] [--code 123456]
  node demo/demo.js preview [--config file.json] [--code 123456] [--to +18765550100]
  node demo/demo.js --help

send (default)
  Without TWILIO_* variables: starts a Twilio-compatible server on 127.0.0.1, sends to it
  and prints what it received. With them, sends a real SMS to --to through Twilio:
    TWILIO_ACCOUNT_SID            always
    TWILIO_AUTH_TOKEN             or TWILIO_API_KEY_SID + TWILIO_API_KEY_SECRET (an API key)
    TWILIO_MESSAGING_SERVICE_SID  or TWILIO_PHONE_NUMBER (the sender: an E.164 number, a short code or an alphanumeric ID)
  A partial set is an error naming what is missing.

preview
  Sends nothing and needs no credentials. For every template it prints the rendered body,
  its encoding and SMS segment count, and warns when a six-digit code makes a template cost
  more than one segment. --config is a JSON file holding either the Console's Templates
  field (an array) or a whole connector config; default: Logto's default templates.
  With --to it also prints the recipient's country (libphonenumber's metadata) and, when
  the config has allowedCountries, whether a send there would be refused and why.

Options
  --to <number>     recipient (required with real credentials; default +15551234567);
                    preview: the recipient whose country is checked
  --type <type>     usage type to send (default SignIn)
  --code <digits>   the verification code (default: random six digits)
  --config <file>   preview: templates array or whole config (JSON)
  -h, --help        this text`;

/** A problem the user can fix: printed as one line, never as a stack trace. */
class UsageError extends Error {}

const fail = (error) => {
  if (error instanceof UsageError || error?.code?.startsWith?.('ERR_PARSE_ARGS')) {
    console.error(`demo: ${error.message}\nRun "node demo/demo.js --help" for the usage.`);
    process.exit(2);
  }
  throw error;
};

let args;
let positionals;
try {
  ({ values: args, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      to: { type: 'string' },
      type: { type: 'string', default: 'SignIn' },
      code: { type: 'string', default: String(Math.floor(100_000 + Math.random() * 900_000)) },
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (error) {
  fail(error);
}

if (args.help) {
  console.log(usage);
  process.exit(0);
}

const PLACEHOLDERS = {
  accountSID: 'AC00000000000000000000000000000000',
  authToken: 'demo-auth-token',
  fromMessagingServiceSID: 'MG00000000000000000000000000000000',
};

/** What to preview: a templates array (the Console's field) or a config's templates and
 * allowedCountries. */
function readPreviewConfig(path) {
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read --config ${path}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
  }
  let value;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--config ${path} is not valid JSON: ${error.message}`);
  }
  if (Array.isArray(value)) return { templates: value };
  if (value && typeof value === 'object' && 'templates' in value) {
    return { templates: value.templates, allowedCountries: value.allowedCountries };
  }
  throw new UsageError(`--config ${path} must hold a templates array or a config with "templates"`);
}

async function preview() {
  const { TwilioSmsConnector } = await import('../lib/native.js');
  const { defaultMetadata } = await import('../lib/index.js');
  const { templates, allowedCountries } = args.config
    ? readPreviewConfig(args.config)
    : { templates: defaultMetadata.formItems.find((item) => item.key === 'templates').defaultValue };
  // Only the templates and the allowlist matter: placeholders stand in for the credentials.
  let connector;
  try {
    connector = new TwilioSmsConnector({ ...PLACEHOLDERS, templates, allowedCountries });
  } catch (error) {
    console.error(`The templates are not valid: ${error.message}`);
    return 1;
  }
  // Six digits, like Logto's codes: the length is what matters for the segment count.
  const code = /^\d{6}$/.test(args.code) ? args.code : '123456';
  const payload = { code, application: { name: 'Demo App' } };
  console.log(`Previewing ${templates.length} templates from ${args.config ?? "Logto's defaults"} with code ${code}:\n`);
  if (args.to !== undefined) {
    const { recipient } = connector.preview(templates[0].usageType, payload, undefined, args.to);
    const country = recipient.country ? `a number of ${recipient.country}` : 'a number of no country';
    const limit = allowedCountries?.length ? `allowed countries: ${allowedCountries.join(', ')}` : 'no allowedCountries: every country';
    console.log(`Recipient ${args.to}: ${country} (${limit})`);
    console.log(recipient.allowed ? '  a send would go out\n' : `  REFUSED before any request: ${recipient.rejection}\n`);
  }
  let warnings = 0;
  for (const template of templates) {
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
    if (result.overBodyLimit) {
      warnings += 1;
      console.log(`  WARNING: ${result.utf16Units} characters (UTF-16 units), over Twilio's 1,600: Twilio refuses it (error 21617).`);
    }
    if (result.segments > 1) {
      warnings += 1;
      console.log(
        `  WARNING: ${result.segments} segments with a six-digit code: each SMS is billed ${result.segments} times${result.encoding === 'UCS-2' ? ' (a non-GSM character forces UCS-2, 70 characters per segment; smartEncoded may help)' : ''}.`
      );
    }
    console.log();
  }
  console.log(warnings ? `${warnings} template(s) take more than one segment.` : 'Every template fits in one segment.');
  return 0;
}

/**
 * The connector config from TWILIO_* variables: `null` when none is set (local server), an
 * explicit credential and sender choice when a complete set is, else a UsageError naming
 * what is missing.
 */
function configFromEnv(env) {
  const names = [
    'TWILIO_ACCOUNT_SID',
    'TWILIO_AUTH_TOKEN',
    'TWILIO_API_KEY_SID',
    'TWILIO_API_KEY_SECRET',
    'TWILIO_MESSAGING_SERVICE_SID',
    'TWILIO_PHONE_NUMBER',
  ];
  const set = (name) => Boolean(env[name]);
  if (!names.some(set)) return null;
  const missing = [];
  if (!set('TWILIO_ACCOUNT_SID')) missing.push('TWILIO_ACCOUNT_SID');
  const apiKey = set('TWILIO_API_KEY_SID') || set('TWILIO_API_KEY_SECRET');
  if (apiKey) {
    for (const name of ['TWILIO_API_KEY_SID', 'TWILIO_API_KEY_SECRET']) if (!set(name)) missing.push(name);
  } else if (!set('TWILIO_AUTH_TOKEN')) {
    missing.push('TWILIO_AUTH_TOKEN (or TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET)');
  }
  const phoneNumber = set('TWILIO_PHONE_NUMBER');
  if (!phoneNumber && !set('TWILIO_MESSAGING_SERVICE_SID')) {
    missing.push('TWILIO_MESSAGING_SERVICE_SID (or TWILIO_PHONE_NUMBER)');
  }
  if (missing.length > 0) {
    throw new UsageError(`some Twilio variables are set but not all; missing: ${missing.join(', ')}`);
  }
  return {
    accountSID: env.TWILIO_ACCOUNT_SID,
    ...(apiKey
      ? { authMethod: 'apiKey', apiKeySID: env.TWILIO_API_KEY_SID, apiKeySecret: env.TWILIO_API_KEY_SECRET }
      : { authMethod: 'authToken', authToken: env.TWILIO_AUTH_TOKEN }),
    ...(phoneNumber
      ? { senderType: 'phoneNumber', fromPhoneNumber: env.TWILIO_PHONE_NUMBER }
      : { senderType: 'messagingService', fromMessagingServiceSID: env.TWILIO_MESSAGING_SERVICE_SID }),
  };
}

async function send() {
  const fromEnv = configFromEnv(process.env);
  if (fromEnv && !args.to) {
    throw new UsageError('with Twilio credentials set, pass the recipient: --to +15551234567');
  }
  let server;
  if (!fromEnv) {
    server = await startTwilioServer();
    // Read by lib/index.js at import: every send goes to the local server.
    process.env.TWILIO_SMS_NATIVE_BASE_URL = server.url;
  }
  const { default: createConnector } = await import('../lib/index.js');
  const config = {
    ...(fromEnv ?? PLACEHOLDERS),
    templates: ['Register', 'SignIn', 'ForgotPassword', 'Generic'].map((usageType) => ({
      usageType,
      content: `Your ${usageType} verification code is {{code}}. It expires in 10 minutes.`,
    })),
  };
  const connector = await createConnector({ getConfig: async () => config });
  const to = args.to ?? '+15551234567';
  const target = process.env.TWILIO_SMS_NATIVE_BASE_URL ?? 'api.twilio.com';
  console.log(`Sending a ${args.type} code to ${to} via ${target} ...`);
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
    return 0;
  } catch (error) {
    console.error(`Failed: ${error.code}: ${error.message}`);
    return 1;
  } finally {
    server?.close();
  }
}

try {
  if (positionals.length > 1 || (positionals[0] && positionals[0] !== 'preview')) {
    throw new UsageError(`unknown mode ${JSON.stringify(positionals.join(' '))}; use no mode (send) or "preview"`);
  }
  process.exitCode = positionals[0] === 'preview' ? await preview() : await send();
} catch (error) {
  fail(error);
}
