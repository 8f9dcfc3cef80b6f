// What a user's code does with the installed package: in a project where it is installed, a
// Logto-style send through the main entry (`createConnector`) and a look at the class entry,
// against the Twilio stand-in at `baseUrl`. Run from the project (as `node -e`), so the package
// resolves from the project's node_modules as it would for the user. Used by the packaging test
// and by scripts/smoke-install.mjs, which the release workflow runs on every target.
import { runFile } from './run-file.js';

export const CONSUMER_CODE = '424242';
export const CONSUMER_BODY = `Your code is ${CONSUMER_CODE}`;

const source = `
  const { default: createConnector } = await import('connector-twilio-sms-native');
  const { TwilioSmsConnector } = await import('connector-twilio-sms-native/native');
  const templates = ['Register', 'SignIn', 'ForgotPassword', 'Generic'].map((usageType) => ({ usageType, content: 'Your code is {{code}}' }));
  const connector = await createConnector({ getConfig: async () => ({ accountSID: 'AC1', authToken: 'consumer-token', fromMessagingServiceSID: 'MG1', templates }) });
  const message = await connector.sendMessage({ to: '+15551230000', type: 'SignIn', payload: { code: '${CONSUMER_CODE}' } });
  const loaded = process.report.getReport().sharedObjects.filter((file) => file.endsWith('.node'));
  console.log(JSON.stringify({ body: message.body, classExported: typeof TwilioSmsConnector, loaded }));
`;

/**
 * Runs the consumer in `project` with `node` (default: this one); resolves with its exit
 * status, output and, when it printed one, its result `{ body, classExported, loaded }`
 * (`loaded`: the paths of the `.node` files in the process).
 */
export const runConsumer = async ({ project, baseUrl, node = process.execPath }) => {
  const run = await runFile(node, ['--input-type=module', '-e', source], {
    cwd: project,
    env: { ...process.env, TWILIO_SMS_NATIVE_BASE_URL: baseUrl },
  });
  let result;
  try {
    result = JSON.parse(run.stdout.trim().split('\n').at(-1));
  } catch {
    result = undefined;
  }
  return { ...run, result };
};
