// Shared test data: configs shaped like the ones Logto saves.
import assert from 'node:assert/strict';

export const authToken = 'f3c2a1b0-test-auth-token-9d8e7f6a';
export const accountSID = 'AC0123456789abcdef0123456789abcdef';
export const messagingServiceSID = 'MG0123456789abcdef0123456789abcdef';
// An API key pair: the secret is guarded like the auth token.
export const apiKeySID = 'SK0123456789abcdef0123456789abcdef';
export const apiKeySecret = 'k3y-s3cret-0f-the-api-key-77';

export const validConfig = (overrides = {}) => ({
  accountSID,
  authToken,
  fromMessagingServiceSID: messagingServiceSID,
  templates: [
    { usageType: 'Register', content: 'Sign up code {{code}}' },
    { usageType: 'SignIn', content: 'Sign in code {{ code }}' },
    { usageType: 'ForgotPassword', content: 'Reset code {{code}}' },
    { usageType: 'Generic', content: 'Generic code {{code}} for {{application.name}}' },
    { usageType: 'SignIn', content: 'second SignIn template, never used' },
  ],
  ...overrides,
});

export const basicAuth = (sid = accountSID, token = authToken) => `Basic ${Buffer.from(`${sid}:${token}`).toString('base64')}`;

/** Every string reachable from an error: message, stack, code and data, to scan for secrets. */
export const errorText = (error) => [String(error?.message), String(error?.stack), String(error?.code), JSON.stringify(error?.data)].join('\n');

/** The error `promise` rejects with; fails the test if it resolves. */
export const rejection = async (promise) => {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected a rejection');
};
