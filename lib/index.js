// The Logto connector module: Logto imports this file and calls its default export.
// A thin adapter: config rules, rendering, HTTP and error mapping all live in the Rust core;
// this file only reshapes what Logto passes and turns native errors into connector-kit's.
// The metadata and form items are in constant.js, the config guard in config-guard.js.
import { ConnectorError, ConnectorErrorCodes, ConnectorType } from '@logto/connector-kit';

import { configGuard, toConfigError } from './config-guard.js';
import { defaultMetadata } from './constant.js';
import { TwilioSmsConnector, sendMessage as sendNative } from './native.js';

export { configGuard, defaultMetadata };

// Logto has no way to pass options to a connector, so operators tune it through the
// environment, read once at import (see README, "Environment variables"; BASE_URL is for
// testing and staging only). The native side checks each value: an invalid one fails every
// send with an invalid_config error naming the option and its variable.
// Each option's variable is named by the rule the native messages use: `maxConcurrency` is
// TWILIO_SMS_NATIVE_MAX_CONCURRENCY.
const fromEnv = (option, parse) => {
  const value = process.env[`TWILIO_SMS_NATIVE_${option.replace(/[A-Z]/g, '_$&').toUpperCase()}`];
  return value === undefined || value === '' ? undefined : parse(value);
};
// The options the Logto module takes from the environment, each with how its text is read.
const tunable = {
  baseUrl: String,
  timeoutMs: Number,
  connectTimeoutMs: Number,
  maxConcurrency: Number,
  maxRetries: Number,
  redisUrl: String,
  redisTimeoutMs: Number,
};
const tuned = Object.fromEntries(
  Object.entries(tunable)
    .map(([option, parse]) => [option, fromEnv(option, parse)])
    .filter(([, value]) => value !== undefined)
);
const options = Object.keys(tuned).length > 0 ? tuned : undefined;

const kitCodes = new Set(Object.values(ConnectorErrorCodes));

/** Native errors carry `code` and `data`; connector-kit wraps a plain string as `{ message }`. */
const toConnectorError = (error) => {
  if (error instanceof ConnectorError) {
    return error;
  }
  // Only connector-kit's codes reach Logto: anything else (napi's `GenericFailure`, a JS
  // engine error) is a `general` failure. A spent budget is `usage_limit_exceeded` where the
  // connector-kit Logto runs has it (5.1.1 and later), else `rate_limit_exceeded`: 429 either way.
  const code = kitCodes.has(error?.code)
    ? error.code
    : error?.code === 'usage_limit_exceeded'
      ? ConnectorErrorCodes.RateLimitExceeded
      : ConnectorErrorCodes.General;
  const data = error?.data;
  if (code === ConnectorErrorCodes.InvalidConfig && Array.isArray(data?.issues)) {
    return new ConnectorError(code, toConfigError(data.issues));
  }
  const isMessageOnly = data && typeof data.message === 'string' && Object.keys(data).length === 1;
  return new ConnectorError(code, isMessageOnly ? data.message : (data ?? String(error?.message)));
};

const sendMessage = (getConfig) => async (data, inputConfig) => {
  const { to, type, payload, ip } = data ?? {};
  // The Console's "Send" test passes the unsaved config; otherwise it is read on every send.
  const config = inputConfig ?? (await getConfig(defaultMetadata.id));
  try {
    // Cheap per send: the native side caches validated configs by content.
    return await sendNative(config, to, type, payload, options, { ip });
  } catch (error) {
    throw toConnectorError(error);
  }
};

/** Outbound SMS since `startFrom` (default: the first of this month, UTC); Logto allows 3 s. */
const getUsage = (getConfig) => async (startFrom) => {
  const config = await getConfig(defaultMetadata.id);
  try {
    return await new TwilioSmsConnector(config, options).getUsage(startFrom);
  } catch (error) {
    throw toConnectorError(error);
  }
};

/** Logto calls this at start-up and per tenant: cheap, and it never calls `getConfig`. */
const createTwilioSmsConnector = async ({ getConfig }) => ({
  metadata: defaultMetadata,
  type: ConnectorType.Sms,
  configGuard,
  sendMessage: sendMessage(getConfig),
  getUsage: getUsage(getConfig),
});

export default createTwilioSmsConnector;
