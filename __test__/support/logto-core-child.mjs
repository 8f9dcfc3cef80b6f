// Logto core starting in an instance folder, then sending one code, in a process of its own:
// the CLI's loader caches its factories per process, and core loads them once per start, so
// one process is one Logto (re)start.
//
//   node logto-core-child.mjs <instance-dir> [<json: { config, data }>]
//
// Prints one JSON line:
//   { factories: [{ id, package }], sent?: { ok: true } | { ok: false, code, message, data } }
//   { refused: { code, message } }    (core would not start)
// The send goes through the SMS factory with id twilio-short-message-service, built with the
// CLI's `buildRawConnector` and a getConfig that returns `config`, as core reads the saved
// config from its database.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { loadConnectorFactoriesLikeCore, packageOf } from '../../deploy/load-connectors.mjs';
import { jsonSafe } from './json-safe.js';

const [instance, planJson] = process.argv.slice(2);
const plan = planJson ? JSON.parse(planJson) : undefined;

let result;
try {
  const { factories } = await loadConnectorFactoriesLikeCore(instance);
  result = { factories: factories.map((factory) => ({ id: factory.metadata.id, package: packageOf(factory) })) };
  if (plan) {
    const { buildRawConnector } = await import(pathToFileURL(join(instance, 'packages', 'cli', 'lib', 'connector', 'index.js')).href);
    const factory = factories.find(({ metadata }) => metadata.id === 'twilio-short-message-service');
    const { rawConnector } = await buildRawConnector(factory, async (id) => {
      if (id !== 'twilio-short-message-service') throw new Error(`getConfig asked for ${id}`);
      return plan.config;
    });
    try {
      await rawConnector.sendMessage(plan.data);
      result.sent = { ok: true };
    } catch (error) {
      result.sent = { ok: false, code: error?.code, message: String(error?.message ?? error), data: jsonSafe(error?.data) };
    }
  }
} catch (error) {
  result = { refused: { code: error.code, message: error.message } };
}
console.log(JSON.stringify(result));
