// Loads the native binding through the napi-generated loader (../index.js), which picks the
// binary by platform, architecture and libc: first one shipped inside this package (the
// self-contained tarball `logto connector add` extracts), then the per-target npm package.
// When neither exists, say so plainly: which platform this is and which ones are supported.
// Both the loader and this message take the platform from ./platform.cjs.
import { readFileSync } from 'node:fs';

import { platformName } from './platform.cjs';

const supportedPlatforms = () => {
  const { napi } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  const names = { x86_64: 'x64', aarch64: 'arm64' };
  const oses = { 'unknown-linux': 'linux', 'apple-darwin': 'darwin', 'pc-windows': 'win32' };
  return napi.targets.map((triple) => {
    const [cpu, ...rest] = triple.split('-');
    const abi = rest.at(-1);
    const os = oses[rest.slice(0, 2).join('-')] ?? rest.join('-');
    return ['gnu', 'musl', 'msvc'].includes(abi) ? `${os}-${names[cpu] ?? cpu}-${abi}` : `${os}-${names[cpu] ?? cpu}`;
  });
};

let binding;
try {
  binding = await import('../index.js');
} catch (error) {
  const failure = new Error(
    `connector-twilio-sms-native has no usable native binary for this platform (${platformName()}, Node ${process.versions.node}, N-API ${process.versions.napi}). ` +
      `Supported: ${supportedPlatforms().join(', ')}. ` +
      'Install the package on a supported platform, or add its per-platform package (connector-twilio-sms-native-<platform>).'
  );
  failure.cause = error;
  throw failure;
}

export const { TwilioSmsConnector, validateConfig, sendMessage, countryCodes, ConnectorErrorCode, __napiBindingTarget } = binding;
