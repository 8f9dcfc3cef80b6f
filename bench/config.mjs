// The connector config every bench and profile sends with: the shape Logto stores (its nine
// default templates) with credentials of Twilio's lengths. A fresh object per call, so a
// caller can add a field (bench/child.mjs adds allowedCountries) without touching another's.
const hex = (n, seed) => Array.from({ length: n }, (_, i) => '0123456789abcdef'[(i * 7 + seed) % 16]).join('');

export const USAGE_TYPES = [
  'SignIn',
  'Register',
  'ForgotPassword',
  'OrganizationInvitation',
  'Generic',
  'UserPermissionValidation',
  'BindNewIdentifier',
  'MfaVerification',
  'BindMfa',
];

export const benchConfig = () => ({
  accountSID: `AC${hex(32, 1)}`,
  authToken: hex(32, 5),
  fromMessagingServiceSID: `MG${hex(32, 9)}`,
  templates: USAGE_TYPES.map((usageType) => ({
    usageType,
    content: `Your Logto ${usageType} verification code is {{code}}. The code will remain active for 10 minutes.`,
  })),
});
