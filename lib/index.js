// The Logto connector module: Logto imports this file and calls its default export.
// A thin adapter: config rules, rendering, HTTP and error mapping all live in the Rust core;
// this file only reshapes what Logto passes and turns native errors into connector-kit's.
import {
  ConnectorConfigFormItemType,
  ConnectorError,
  ConnectorErrorCodes,
  ConnectorType,
} from '@logto/connector-kit';

import { TwilioSmsConnector, sendMessage as sendNative, validateConfig } from './native.js';

const defaultContent = (what) =>
  `Your Logto ${what} code is {{code}}. The code will remain active for 10 minutes.`;

// Same id, target and form keys as @logto/connector-twilio-sms, so a saved config carries over.
export const defaultMetadata = Object.freeze({
  id: 'twilio-short-message-service',
  target: 'twilio-sms',
  platform: null,
  name: {
    en: 'Twilio SMS Service',
    'zh-CN': 'Twilio 短信服务',
    'tr-TR': 'Twilio SMS Servisi',
    ko: 'Twilio SMS 서비스',
  },
  logo: './logo.svg',
  logoDark: null,
  description: {
    en: 'Twilio provides programmable communication tools for phone calls and messages. Native (Rust) build of the Twilio SMS connector.',
    'zh-CN': 'Twilio 是一个提供面向消费者的可编程通讯服务的平台。这是 Twilio 短信连接器的原生（Rust）实现。',
    'tr-TR': 'Twilio, telefon görüşmeleri ve mesajlar için programlanabilir iletişim araçları sağlar. Twilio SMS bağlayıcısının yerel (Rust) sürümü.',
    ko: 'Twilio는 전화 및 SMS을 할 수 있도록 개발자 도구를 제공합니다. Twilio SMS 커넥터의 네이티브(Rust) 구현입니다.',
  },
  readme: './docs/README.md',
  formItems: [
    {
      key: 'host',
      label: 'Host',
      type: ConnectorConfigFormItemType.Text,
      required: false,
      placeholder: 'api.twilio.com',
      description:
        'Twilio REST API host. Leave empty for api.twilio.com, or use a regional host such as api.dublin.ie1.twilio.com.',
      isDevFeature: true,
    },
    {
      key: 'accountSID',
      label: 'Account SID',
      type: ConnectorConfigFormItemType.Text,
      required: true,
      placeholder: '<account-sid>',
    },
    {
      key: 'authToken',
      label: 'Auth Token',
      type: ConnectorConfigFormItemType.Text,
      // Not required by the form: an API key pair can replace it. The native guard still
      // requires one complete credential and names the missing field.
      required: false,
      placeholder: '<auth-token>',
      description: 'Required unless you fill in API Key SID and API Key Secret below.',
    },
    {
      key: 'fromMessagingServiceSID',
      label: 'From Messaging Service SID',
      type: ConnectorConfigFormItemType.Text,
      required: false,
      placeholder: '<from-messaging-service-sid>',
      description: 'Required unless you fill in From Phone Number below.',
    },
    {
      key: 'disableRiskCheck',
      label: 'Disable risk check',
      type: ConnectorConfigFormItemType.Switch,
      required: false,
      defaultValue: false,
      description:
        'Whether to disable Twilio built-in risk check. Enabled by default. More details: https://www.twilio.com/docs/messaging/api/message-resource',
    },
    {
      key: 'apiKeySID',
      label: 'API Key SID',
      type: ConnectorConfigFormItemType.Text,
      required: false,
      placeholder: 'SKxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
      description:
        'Optional. A Twilio API key (SK…) to authenticate with instead of the Auth Token; needs API Key Secret too. When both an API key and an Auth Token are set, the API key is used.',
    },
    {
      key: 'apiKeySecret',
      label: 'API Key Secret',
      type: ConnectorConfigFormItemType.Text,
      required: false,
      placeholder: '<api-key-secret>',
      description: "Optional. The API key's secret, shown once when the key is created in the Twilio Console.",
    },
    {
      key: 'fromPhoneNumber',
      label: 'From Phone Number',
      type: ConnectorConfigFormItemType.Text,
      required: false,
      placeholder: '+15551234567',
      description:
        'Optional. A Twilio number (E.164) to send from, sent as From. Lets you send without a Messaging Service.',
    },
    {
      key: 'validityPeriod',
      label: 'Validity period (seconds)',
      type: ConnectorConfigFormItemType.Number,
      required: false,
      placeholder: '600',
      description:
        'Optional. How long (1 to 36000 seconds) Twilio may hold a queued message before dropping it. Match it to how long your codes stay valid so stale codes are not delivered.',
    },
    {
      key: 'smartEncoded',
      label: 'Smart encoding',
      type: ConnectorConfigFormItemType.Switch,
      required: false,
      description:
        'Optional. When on, Twilio replaces Unicode look-alike characters (curly quotes, long dashes) with GSM-7 ones, so a message costs fewer segments.',
    },
    {
      key: 'templates',
      label: 'Templates',
      type: ConnectorConfigFormItemType.Json,
      required: true,
      defaultValue: [
        ['SignIn', 'sign-in verification'],
        ['Register', 'sign-up verification'],
        ['ForgotPassword', 'password change verification'],
        ['OrganizationInvitation', 'organization invitation'],
        ['Generic', 'verification'],
        ['UserPermissionValidation', 'permission validation'],
        ['BindNewIdentifier', 'new identifier binding'],
        ['MfaVerification', 'MFA verification'],
        ['BindMfa', '2-step verification setup'],
      ].map(([usageType, what]) => ({ usageType, content: defaultContent(what) })),
    },
  ],
});

/** A failed config check, shaped like zod's ZodError (`issues: [{ code, path, message }]`). */
export class ConfigError extends Error {
  constructor(message, issues) {
    super(message);
    this.name = 'ConfigError';
    this.issues = issues;
  }

  get errors() {
    return this.issues;
  }
}

const toConfigError = (message, issues) =>
  new ConfigError(message, issues ?? [{ code: 'custom', path: [], message }]);

/** zod-compatible guard backed by the native validator (Logto calls `safeParse`). */
export const configGuard = Object.freeze({
  safeParse(config) {
    const { success, message, issues } = validateConfig(config);
    return success ? { success, data: config } : { success, error: toConfigError(message, issues) };
  },
  parse(config) {
    const result = configGuard.safeParse(config);
    if (!result.success) {
      throw result.error;
    }
    return result.data;
  },
});

// Logto has no way to pass options to a connector, so operators tune it through the
// environment, read once at import (see README, "Environment variables"; BASE_URL is for
// testing and staging only). The native side checks each value: an invalid one fails every
// send with an invalid_config error naming the option.
const fromEnv = (name, parse = Number) => {
  const value = process.env[`TWILIO_SMS_NATIVE_${name}`];
  return value === undefined || value === '' ? undefined : parse(value);
};
const tuned = Object.fromEntries(
  Object.entries({
    baseUrl: fromEnv('BASE_URL', String),
    timeoutMs: fromEnv('TIMEOUT_MS'),
    connectTimeoutMs: fromEnv('CONNECT_TIMEOUT_MS'),
    maxConcurrency: fromEnv('MAX_CONCURRENCY'),
    maxRetries: fromEnv('MAX_RETRIES'),
  }).filter(([, value]) => value !== undefined)
);
const options = Object.keys(tuned).length > 0 ? tuned : undefined;

const kitCodes = new Set(Object.values(ConnectorErrorCodes));

/** Native errors carry `code` and `data`; connector-kit wraps a plain string as `{ message }`. */
const toConnectorError = (error) => {
  if (error instanceof ConnectorError) {
    return error;
  }
  // Only connector-kit's codes reach Logto: anything else (napi's `GenericFailure`, a JS
  // engine error) is a `general` failure.
  const code = kitCodes.has(error?.code) ? error.code : ConnectorErrorCodes.General;
  const data = error?.data;
  if (code === ConnectorErrorCodes.InvalidConfig && Array.isArray(data?.issues)) {
    return new ConnectorError(code, toConfigError(error.message, data.issues));
  }
  const isMessageOnly =
    data && typeof data.message === 'string' && Object.keys(data).length === 1;
  return new ConnectorError(code, isMessageOnly ? data.message : data ?? String(error?.message));
};

const sendMessage =
  (getConfig) =>
  async (data, inputConfig) => {
    const { to, type, payload } = data ?? {};
    // The Console's "Send" test passes the unsaved config; otherwise it is read on every send.
    const config = inputConfig ?? (await getConfig(defaultMetadata.id));
    try {
      // Cheap per send: the native side caches validated configs by content.
      return await sendNative(config, to, type, payload, options);
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
