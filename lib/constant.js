// The connector's metadata and the Console's form items: what Logto shows, apart from what
// the connector does (Logto's connectors keep these in `constant.ts`).
import { ConnectorConfigFormItemType } from '@logto/connector-kit';

import { countryCodes } from './native.js';

const defaultContent = (what) => `Your Logto ${what} code is {{code}}. The code will remain active for 10 minutes.`;

// The Console's country choices: the codes the native validator accepts (libphonenumber's
// regions), titled with their English names (Node's ICU), e.g. "Jamaica (JM)", sorted by name.
// Built on first read, not at import: Logto reads the form only when the Console asks for it,
// and ICU's region names cost every Logto start ~13 ms and ~7 MB of resident memory otherwise.
let countryItems;
const countrySelectItems = () => {
  if (!countryItems) {
    const names = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'code' });
    countryItems = countryCodes()
      .map((code) => ({ value: code, title: `${names.of(code)} (${code})` }))
      .sort((a, b) => a.title.localeCompare(b.title, 'en'));
  }
  return countryItems;
};

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
        'The Twilio REST API host requests go to (host name only: no https://, port or path). Valid forms: api.twilio.com (the default, US1), api.us1.twilio.com or api.ashburn.us1.twilio.com; api.dublin.ie1.twilio.com for Ireland (IE1) and api.sydney.au1.twilio.com for Australia (AU1), which need an Auth Token or API key created in that region (Twilio Console → API keys & tokens → region selector); a US1 credential fails there with HTTP 401, Twilio error 20003. No other host is accepted: api.ie1.twilio.com, api.au1.twilio.com and the other api.<region>.twilio.com forms stopped working on 2026-04-28, and REST API requests do not choose an edge location (api.frankfurt.de1.twilio.com, api.dublin.us1.twilio.com). To go back to the default after setting one, enter api.twilio.com: a cleared field keeps the saved value.',
    },
    {
      key: 'accountSID',
      label: 'Account SID',
      type: ConnectorConfigFormItemType.Text,
      required: true,
      placeholder: 'ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
      description: 'Your Twilio account (AC…, on the Twilio Console home page). Every request goes to this account.',
    },
    // The Console saves `{ ...savedConfig, ...form }` without '' and false values, so a
    // cleared field keeps its saved value. An explicit choice (a Select, whose string value is
    // always saved) decides which fields count; the fields of the other choice are hidden,
    // not validated by the form, and ignored by the connector.
    {
      key: 'authMethod',
      label: 'Authenticate with',
      type: ConnectorConfigFormItemType.Select,
      required: true,
      defaultValue: 'authToken',
      selectItems: [
        { value: 'authToken', title: 'Auth Token' },
        { value: 'apiKey', title: 'API key' },
      ],
      description: "Which credential signs the requests to Twilio: the account's Auth Token, or an API key (which you can revoke on its own).",
    },
    {
      key: 'authToken',
      label: 'Auth Token',
      type: ConnectorConfigFormItemType.Text,
      required: true,
      isConfidential: true,
      placeholder: '<auth-token>',
      description: "The account's Auth Token (Twilio Console → Account info). Used as the password with the Account SID.",
      showConditions: [{ targetKey: 'authMethod', expectValue: 'authToken' }],
    },
    {
      key: 'apiKeySID',
      label: 'API Key SID',
      type: ConnectorConfigFormItemType.Text,
      required: true,
      placeholder: 'SKxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
      description: 'A Twilio API key (SK…, Twilio Console → API keys & tokens), used instead of the Auth Token.',
      showConditions: [{ targetKey: 'authMethod', expectValue: 'apiKey' }],
    },
    {
      key: 'apiKeySecret',
      label: 'API Key Secret',
      type: ConnectorConfigFormItemType.Text,
      required: true,
      isConfidential: true,
      placeholder: '<api-key-secret>',
      description: "The API key's secret, shown once when the key is created.",
      showConditions: [{ targetKey: 'authMethod', expectValue: 'apiKey' }],
    },
    {
      key: 'senderType',
      label: 'Send from',
      type: ConnectorConfigFormItemType.Select,
      required: true,
      defaultValue: 'messagingService',
      selectItems: [
        { value: 'messagingService', title: 'Messaging Service' },
        { value: 'phoneNumber', title: 'Phone number, short code or alphanumeric ID' },
      ],
      description:
        'What Twilio sends the SMS from: a Messaging Service (its sender pool picks the sender), or one sender: a Twilio phone number, a short code or an alphanumeric sender ID.',
    },
    {
      key: 'fromMessagingServiceSID',
      label: 'From Messaging Service SID',
      type: ConnectorConfigFormItemType.Text,
      required: true,
      placeholder: 'MGxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
      description: 'The Messaging Service (MG…) Twilio sends from, sent as MessagingServiceSid.',
      showConditions: [{ targetKey: 'senderType', expectValue: 'messagingService' }],
    },
    {
      key: 'fromPhoneNumber',
      label: 'Sender (number, short code or alphanumeric ID)',
      type: ConnectorConfigFormItemType.Text,
      required: true,
      placeholder: '+15551234567, 12345 or ACME',
      description:
        'Sent as From. One of: a Twilio number of this account in E.164 format (+ and country code, digits only, e.g. +15551234567); a short code (5 or 6 digits); or an alphanumeric sender ID (1 to 11 letters, digits, spaces and + - _ &, at least one letter, e.g. ACME or ACME-Bank). Alphanumeric IDs are not allowed in some countries, among them the United States and Canada (messages there fail), some countries require them registered first, and recipients cannot reply to them.',
      showConditions: [{ targetKey: 'senderType', expectValue: 'phoneNumber' }],
    },
    {
      key: 'allowedCountries',
      label: 'Allowed countries',
      type: ConnectorConfigFormItemType.MultiSelect,
      required: false,
      get selectItems() {
        return countrySelectItems();
      },
      description:
        'Against SMS pumping (bots requesting codes to premium-rate numbers you pay for): when any country is checked, a code is sent only to valid phone numbers of the checked countries, told apart by the number itself (+1 is the US, Canada and many Caribbean countries); any other number is refused before Twilio is called. None checked: every country, as before.',
    },
    {
      key: 'smsPumping',
      label: 'SMS pumping limits',
      type: ConnectorConfigFormItemType.Json,
      required: false,
      description:
        'Against SMS pumping, checked before Twilio is called: `limits` (at most `max` sends per `windowSeconds` by `ip`, `numberRange` or `country`, with `perCountry` overrides), `dailySegments` (`total`, `perCountry`) and `onStoreError` (`allow` or `refuse`). Counted in this process, or on Redis for every replica with TWILIO_SMS_NATIVE_REDIS_URL. Empty: no limits. Every key, suggested values and what each limit stops: docs/sms-pumping.md.',
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
      key: 'validityPeriodMode',
      label: 'Validity period',
      type: ConnectorConfigFormItemType.Select,
      required: false,
      defaultValue: 'twilioDefault',
      selectItems: [
        { value: 'twilioDefault', title: "Twilio's default (10 hours)" },
        { value: 'custom', title: 'Custom' },
      ],
      description:
        'How long Twilio may hold a queued message before dropping it. A custom period matching how long your codes stay valid keeps stale codes from being delivered.',
    },
    {
      key: 'validityPeriod',
      label: 'Validity period (seconds)',
      type: ConnectorConfigFormItemType.Number,
      required: true,
      placeholder: '600',
      description: 'Seconds, 1 to 36000, sent as ValidityPeriod.',
      showConditions: [{ targetKey: 'validityPeriodMode', expectValue: 'custom' }],
    },
    {
      key: 'smartEncoded',
      label: 'Smart encoding',
      type: ConnectorConfigFormItemType.Select,
      required: false,
      defaultValue: 'default',
      selectItems: [
        { value: 'default', title: "Twilio's setting (not sent)" },
        { value: 'on', title: 'On' },
        { value: 'off', title: 'Off' },
      ],
      description:
        'On: Twilio replaces Unicode look-alike characters (curly quotes, long dashes) with GSM-7 ones, so a message costs fewer segments. Off: sent as written.',
    },
    {
      key: 'templates',
      label: 'Templates',
      type: ConnectorConfigFormItemType.Json,
      required: true,
      description:
        'The SMS text per usage type (SignIn, Register, ForgotPassword, Generic are required; Generic also serves any type without its own). {{code}} is the verification code; an optional "locale" (fr, pt-BR) picks a template by the user\'s language.',
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
