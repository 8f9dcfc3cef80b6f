// The typings as a TypeScript user gets them: the packed package in a tiny project's
// node_modules, a sample importing both entry points, `tsc` under each moduleResolution with
// isolatedModules; and every value the typings declare exists at run time.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { pkg, root } from './support/instance.js';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
// Inside the repo, so the package's own imports (@logto/connector-kit) resolve through an
// ancestor's node_modules, as they would in the user's project.
const project = join(root, '.tmp', `typings-${process.pid}`);
const installed = join(project, 'node_modules', pkg.name);

const sample = `
import { TemplateType } from '@logto/connector-kit';
import createConnector, {
  configGuard,
  defaultMetadata,
  type ConfigIssue,
  type ConfigValidationError,
  type TwilioSmsConfig,
  type TwilioSmsConnectorError,
} from '${pkg.name}';
import {
  ConnectorErrorCode,
  TwilioSmsConnector,
  sendMessage,
  validateConfig,
  type MessagePreview,
  type MessageResource,
  type TwilioSmsError,
} from '${pkg.name}/native';

const config: TwilioSmsConfig = {
  accountSID: 'AC1',
  authMethod: 'apiKey',
  apiKeySID: 'SK1',
  apiKeySecret: 'secret',
  senderType: 'phoneNumber',
  fromPhoneNumber: '+15551234567',
  validityPeriodMode: 'custom',
  validityPeriod: 600,
  smartEncoded: 'off',
  templates: [{ usageType: 'Generic', content: '{{code}}' }],
};

// Twilio's Message resource as its API definition types it: nullable fields, the error pair,
// and a status that is one of Twilio's message statuses.
const undelivered: MessageResource = {
  sid: 'SM00000000000000000000000000000000',
  status: 'undelivered',
  to: null,
  body: null,
  num_segments: null,
  price: null,
  error_code: 30007,
  error_message: null,
};
// @ts-expect-error: not one of Twilio's message statuses
const misspelled: MessageResource = { ...undelivered, status: 'delivred' };
// @ts-expect-error: error_code is a number
const textCode: MessageResource = { ...undelivered, error_code: '30007' };

// A runtime enum: reading a member is legal under isolatedModules.
const code: ConnectorErrorCode = ConnectorErrorCode.InvalidConfig;
const id: string = defaultMetadata.id;

export async function demo(): Promise<void> {
  const connector = await createConnector({ getConfig: async () => config });
  const parsed = configGuard.safeParse(config);
  if (!parsed.success) {
    const issues: ConfigIssue[] = parsed.error.issues;
    const error: ConfigValidationError = parsed.error;
    console.log(issues.length, error.name);
  }
  try {
    await connector.sendMessage({ to: '+1', type: TemplateType.SignIn, payload: { code: '1' } });
  } catch (caught) {
    const error = caught as TwilioSmsConnectorError;
    console.log(error.code, error.data);
  }
  const sms = new TwilioSmsConnector(config, { timeoutMs: 1000 });
  const sent: MessageResource = await sms.sendMessage('+1', 'SignIn', { code: '1' });
  const failure: number | null = sent.error_code;
  console.log(sent.status === 'queued', failure, undelivered, misspelled, textCode);
  const preview: MessagePreview = sms.preview('SignIn', { code: '1' });
  try {
    await sendMessage(config, '+1', 'SignIn');
  } catch (caught) {
    const error = caught as TwilioSmsError;
    if (error.code === ConnectorErrorCode.RateLimitExceeded) console.log(error.data);
  }
  console.log(code, id, preview.segments, validateConfig(config).success);
}
`;

const settings = {
  node16: { module: 'node16', moduleResolution: 'node16' },
  bundler: { module: 'esnext', moduleResolution: 'bundler' },
  // TypeScript 6 calls the legacy resolution node10 and deprecates it; users still have it.
  node: { module: 'esnext', moduleResolution: 'node', ignoreDeprecations: '6.0' },
};

before(() => {
  mkdirSync(installed, { recursive: true });
  // --ignore-scripts: the typings need no binary, so `prepack` (which wants every Linux
  // binary in a tarball that ships) is not this test's business; pack-guard.test.js is.
  const [{ filename }] = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', project], {
      cwd: root,
      encoding: 'utf8',
      shell: process.platform === 'win32',
    })
  );
  execFileSync('tar', ['-xzf', join(project, filename), '-C', installed, '--strip-components=1']);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'sample', private: true, type: 'module' }));
  writeFileSync(join(project, 'sample.ts'), sample);
});

after(() => rmSync(project, { recursive: true, force: true }));

for (const [name, options] of Object.entries(settings)) {
  test(`tsc type-checks both entry points with moduleResolution ${name} and isolatedModules`, () => {
    const tsconfig = join(project, `tsconfig.${name}.json`);
    writeFileSync(
      tsconfig,
      JSON.stringify({
        compilerOptions: {
          ...options,
          target: 'es2022',
          strict: true,
          isolatedModules: true,
          verbatimModuleSyntax: name !== 'node',
          noEmit: true,
          skipLibCheck: false,
          lib: ['es2022', 'dom'],
          types: [],
        },
        files: ['sample.ts'],
      })
    );
    const { status, stdout, stderr } = spawnSync(process.execPath, [tsc, '-p', tsconfig], { cwd: project, encoding: 'utf8' });
    assert.equal(status, 0, `${stdout}${stderr}`);
  });
}

test('every value the typings declare is exported at run time', async () => {
  const declared = (file) =>
    [...readFileSync(join(installed, file), 'utf8').matchAll(/^export declare (?:const|function|class|enum) (\w+)/gm)].map(([, name]) => name);
  const native = await import(join(installed, 'lib', 'native.js'));
  for (const name of declared('index.d.ts')) {
    assert.ok(name in native, `index.d.ts declares ${name}, lib/native.js does not export it`);
  }
  const main = await import(join(installed, 'lib', 'index.js'));
  for (const name of declared(join('lib', 'index.d.ts'))) {
    assert.ok(name in main, `lib/index.d.ts declares ${name}`);
  }
  assert.equal(typeof main.default, 'function');
  assert.equal(pkg.types, './lib/index.d.ts', 'the main entry is lib/index.js');
  assert.equal(typeof native.ConnectorErrorCode, 'object');
});
