#!/usr/bin/env node
// Loads a Logto instance's connectors folder the way Logto core does when it starts, and
// fails the way core fails. Used at image build time (deploy/Dockerfile) and by the tests
// (__test__/logto-image.test.js), so a swap that would stop Logto from starting stops here.
//
//   node load-connectors.mjs [instance-dir] [--expect <package-name>]
//
// instance-dir defaults to the working directory (/etc/logto in the official image). With
// --expect, it also fails unless the connector of that package is among those loaded.
// Prints one JSON line: { factories: [{ id, type, package, path }] }.
//
// How core does it (logto-io/logto, packages/core/src/utils/connectors/index.ts,
// `loadConnectorFactories`): list the packages in packages/core/connectors with the CLI's
// `getConnectorPackagesFromDirectory` (every entry whose package.json name starts with
// `connector-` or `@scope/connector-`, symlinks followed), load them with the CLI's
// `loadConnectorFactories` (a connector that fails to load is logged and skipped), then refuse
// duplicate ids with `checkDuplicateConnectorFactoriesId`, reproduced below. Core finds the
// CLI as its sibling package, packages/cli, and so does this script.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Core's `checkDuplicateConnectorFactoriesId`, with core's `RequestError` (code, status 422,
 * `connectorIds` data) and the English phrase of
 * packages/phrases/src/locales/en/errors/connector.ts.
 */
export function checkDuplicateConnectorFactoriesId(connectorFactories) {
  const connectorFactoryIds = connectorFactories.map(({ metadata }) => metadata.id);
  const deduplicatedConnectorFactoryIds = [...new Set(connectorFactoryIds)];

  if (connectorFactoryIds.length !== deduplicatedConnectorFactoryIds.length) {
    const duplicatedConnectorFactoryIds = deduplicatedConnectorFactoryIds.filter(
      (deduplicateId) => connectorFactoryIds.filter((id) => id === deduplicateId).length > 1
    );
    const connectorIds = duplicatedConnectorFactoryIds.map((id) => `${id}`).join(', ');
    throw Object.assign(new Error(`Found multiple connector factories (with id ${connectorIds}), you may uninstall unnecessary ones.`), {
      code: 'connector.more_than_one_connector_factory',
      status: 422,
      data: { connectorIds },
    });
  }
}

/** Core's start-up load of `<instance>/packages/core/connectors`: the factories, or a throw. */
export async function loadConnectorFactoriesLikeCore(instance) {
  const cli = join(resolve(instance), 'packages', 'cli', 'lib');
  const { getConnectorPackagesFromDirectory } = await import(pathToFileURL(join(cli, 'utils.js')).href);
  const { loadConnectorFactories } = await import(pathToFileURL(join(cli, 'connector', 'index.js')).href);
  const directory = join(resolve(instance), 'packages', 'core', 'connectors');
  const packages = await getConnectorPackagesFromDirectory(directory);
  // Core passes true only for integration tests or IGNORE_CONNECTOR_VERSION_CHECK.
  const factories = await loadConnectorFactories(packages, false);
  checkDuplicateConnectorFactoriesId(factories);
  return { factories, packages };
}

/** The package name of a loaded factory (its folder's package.json). */
export const packageOf = (factory) => JSON.parse(readFileSync(join(factory.path, 'package.json'), 'utf8')).name;

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const expectAt = args.indexOf('--expect');
  const expected = expectAt === -1 ? undefined : args.splice(expectAt, 2)[1];
  const instance = args[0] ?? '.';
  try {
    const { factories } = await loadConnectorFactoriesLikeCore(instance);
    const summary = factories.map((factory) => ({
      id: factory.metadata.id,
      type: factory.type,
      package: packageOf(factory),
      path: factory.path,
    }));
    if (expected && !summary.some((entry) => entry.package === expected)) {
      console.error(`${expected} did not load from ${resolve(instance)}/packages/core/connectors (see the error above).`);
      process.exit(1);
    }
    console.log(JSON.stringify({ factories: summary }));
  } catch (error) {
    console.error(`${error.code ?? error.name}: ${error.message}`);
    process.exit(1);
  }
}
