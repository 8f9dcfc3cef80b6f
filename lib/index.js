// The Logto connector module: Logto imports this file and calls its default export.
// A thin adapter: config rules, rendering, HTTP and error mapping all live in the Rust core;
// this file only reshapes what Logto passes and turns native errors into connector-kit's.
import {
  ConnectorConfigFormItemType,
  ConnectorError,
  ConnectorErrorCodes,
  ConnectorType,
} from '@logto/connector-kit';

import { TwilioSmsConnector, validateConfig } from './native.js';

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
      required: true,
      placeholder: '<auth-token>',
    },
    {
      key: 'fromMessagingServiceSID',
      label: 'From Messaging Service SID',
      type: ConnectorConfigFormItemType.Text,
      required: true,
      placeholder: '<from-messaging-service-sid>',
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

// A test- and staging-only override of `https://<host>`: it points every send at a
// Twilio-compatible server (see README, "Environment variables").
const baseUrl = process.env.TWILIO_SMS_NATIVE_BASE_URL || undefined;
const options = baseUrl ? { baseUrl } : undefined;

/** Native errors carry `code` and `data`; connector-kit wraps a plain string as `{ message }`. */
const toConnectorError = (error) => {
  if (error instanceof ConnectorError) {
    return error;
  }
  const code = typeof error?.code === 'string' ? error.code : ConnectorErrorCodes.General;
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
      return await new TwilioSmsConnector(config, options).sendMessage(to, type, payload);
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
});

export default createTwilioSmsConnector;
