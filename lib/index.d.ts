// Types for the Logto connector module (the package's default entry point).
import type { CreateConnector, SmsConnector, ConnectorMetadata } from '@logto/connector-kit';

export type { TwilioSmsConfig, SmsTemplate, MessageResource } from '../index.js';

/** The connector's metadata: id `twilio-short-message-service`, as the JS connector's. */
export declare const defaultMetadata: ConnectorMetadata;

/** A config check failure, shaped like zod's ZodError. */
export declare class ConfigError extends Error {
  name: 'ConfigError';
  issues: Array<{ code: string; path: Array<string | number>; message: string }>;
  get errors(): ConfigError['issues'];
}

/** zod-compatible guard backed by the native validator. */
export declare const configGuard: {
  safeParse(config: unknown):
    | { success: true; data: import('../index.js').TwilioSmsConfig }
    | { success: false; error: ConfigError };
  parse(config: unknown): import('../index.js').TwilioSmsConfig;
};

declare const createTwilioSmsConnector: CreateConnector<SmsConnector>;
export default createTwilioSmsConnector;
