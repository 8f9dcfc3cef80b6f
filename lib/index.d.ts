// Types for the Logto connector module (the package's default entry point).
import type { ConnectorError, ConnectorMetadata, CreateConnector, SmsConnector } from '@logto/connector-kit';

import type { TwilioSmsConfig } from '../index.js';

export type { TwilioSmsConfig, SmsTemplate, MessageResource, MessagePreview, RecipientCheck } from '../index.js';

/** The connector's metadata: id `twilio-short-message-service`, as the JS connector's. */
export declare const defaultMetadata: ConnectorMetadata;

/** One config problem, in zod's issue shape. */
export interface ConfigIssue {
  /** zod's issue code: `invalid_type`, `invalid_string`, `invalid_enum_value`, `too_small`, `custom`. */
  code: string;
  path: Array<string | number>;
  message: string;
  /** For `invalid_type`: the type wanted and the type found (`undefined` when missing). */
  expected?: string;
  received?: string;
}

/**
 * A failed config check: a real zod `ZodError` (of the zod Logto core resolves, so the Console
 * shows each key path), or, where no zod can be found, an Error with the same fields.
 */
export interface ConfigValidationError extends Error {
  name: 'ZodError';
  issues: ConfigIssue[];
}

/**
 * What `sendMessage` and `getUsage` reject with: connector-kit's `ConnectorError`. Its `data`
 * is the `ConfigValidationError` for `invalid_config` from the config, else `{ message }`
 * (Twilio's raw answer for an HTTP error).
 */
export type TwilioSmsConnectorError = ConnectorError & {
  data: ConfigValidationError | { message: string };
};

/** zod-compatible guard backed by the native validator. */
export declare const configGuard: {
  safeParse(config: unknown): { success: true; data: TwilioSmsConfig } | { success: false; error: ConfigValidationError };
  parse(config: unknown): TwilioSmsConfig;
};

declare const createTwilioSmsConnector: CreateConnector<SmsConnector>;
export default createTwilioSmsConnector;
