// Logto's admin Console and core as the connector meets them, for console.test.js: the code
// below is Logto's own, copied, so the tests replay what an admin's edits and saves do.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { ConnectorConfigFormItemType, validateConfig } from '@logto/connector-kit';

import { basicAuth } from '../fixtures.js';

/**
 * Core's formatting of a config error, written as a module inside `coreDir` (packages/core) so
 * that its `import 'zod'` resolves the way core's own does; returns its path. Copied from
 * logto-io/logto packages/core/src/errors/RequestError (formatZodError and the `details` getter).
 */
export const writeCoreDetails = (coreDir) => {
  const path = join(coreDir, 'request-error-details.mjs');
  writeFileSync(
    path,
    `import { ZodError } from 'zod';
export { ZodError };
export const formatZodError = ({ issues }) =>
  issues.map((issue) => {
    const base = \`Error in key path "\${issue.path.map(String).join('.')}": (\${issue.code}) \`;
    if (issue.code === 'invalid_type') {
      return base + \`Expected \${issue.expected} but received \${issue.received}.\`;
    }
    return base + issue.message;
  });
export const details = (data) =>
  data instanceof SyntaxError ? data.message : data instanceof ZodError ? formatZodError(data).join('\\n') : undefined;
`
  );
  return path;
};

// ---------------------------------------------------------------------------------------
// The admin Console, replayed. Copied from logto-io/logto, packages/console:
// - removeFalsyValues: src/utils/object.ts;
// - initFormData, parseFormConfig: src/utils/connector-form.ts (safeParseJson as JSON.parse);
// - the save: src/pages/ConnectorDetails/ConnectorContent/index.tsx, onSubmit:
//   `removeFalsyValues({ ...rawConfig, ...configParser(data, formItems) })`, and after the
//   save `reset(convertResponseToForm(updatedConnector))`;
// - which fields show: src/components/ConnectorForm/ConfigForm/ConfigFormFields (isDevFeature
//   hidden in production, showConditions all `===`); react-hook-form validates `required` on
//   shown fields only (a Switch never), and keeps hidden fields' values (shouldUnregister off).
// ---------------------------------------------------------------------------------------
const removeFalsyValues = (object) => Object.fromEntries(Object.entries(object).filter(([, value]) => value));

const conditional = (value) => (value ? value : undefined);

const initFormData = (items, config) =>
  Object.fromEntries(
    items.map((formItem) => {
      const configValue =
        config?.[formItem.key] ??
        conditional(formItem.type === ConnectorConfigFormItemType.Json && {}) ??
        conditional(formItem.type === ConnectorConfigFormItemType.MultiSelect && []);
      const value = config ? configValue : formItem.defaultValue;
      return formItem.type === ConnectorConfigFormItemType.Json ? [formItem.key, JSON.stringify(value, null, 2)] : [formItem.key, value];
    })
  );

const safeParseJson = (text) => {
  try {
    return { success: true, data: JSON.parse(text) };
  } catch {
    return { success: false };
  }
};

const parseFormConfig = (config, items, skipFalsyValuesRemoval = false) =>
  Object.fromEntries(
    Object.entries(config)
      .map(([key, value]) => {
        if (!skipFalsyValuesRemoval && value === '') return null;
        const formItem = items.find((candidate) => candidate.key === key);
        if (!formItem) return null;
        if (formItem.type === ConnectorConfigFormItemType.Number) {
          return Number.isNaN(value) ? null : [key, Number(value)];
        }
        if (formItem.type === ConnectorConfigFormItemType.Json) {
          const result = safeParseJson(typeof value === 'string' ? value : '');
          return [key, result.success ? result.data : {}];
        }
        return [key, value];
      })
      .filter((entry) => Array.isArray(entry))
  );

const isShown = (formItem, values) =>
  !formItem.isDevFeature && (!formItem.showConditions || formItem.showConditions.every(({ targetKey, expectValue }) => values[targetKey] === expectValue));

/** The Console's details page for one connector: edit the form, save, test. */
export class ConsolePage {
  /**
   * `items`: the connector's form items; `configGuard`: its config guard (core validates a save with
   * it); `store(config)`: what happens to a saved config (core stores it).
   */
  constructor(items, { configGuard, store }, config) {
    this.items = items;
    this.configGuard = configGuard;
    this.store = store;
    this.load(config);
  }

  /** A new connector starts from the defaults; an existing one from its saved config. */
  load(config) {
    this.rawConfig = config ?? {};
    this.formConfig = initFormData(this.items, config);
  }

  item(key) {
    return this.items.find((candidate) => candidate.key === key);
  }

  set(key, value) {
    const formItem = this.item(key);
    assert.ok(formItem, key);
    assert.ok(isShown(formItem, this.formConfig), `${key} is not shown, so it cannot be edited`);
    // A cleared number input gives NaN (valueAsNumber); a cleared text input ''.
    this.formConfig[key] = value;
  }

  shown(key) {
    return isShown(this.item(key), this.formConfig) ? this.formConfig[key] : undefined;
  }

  /** The names of the shown fields react-hook-form would refuse as empty. */
  missing() {
    return this.items
      .filter((formItem) => isShown(formItem, this.formConfig) && formItem.required)
      .filter((formItem) => formItem.type !== ConnectorConfigFormItemType.Switch)
      .filter(({ key }) => {
        const value = this.formConfig[key];
        return value === undefined || value === null || value === '' || Number.isNaN(value);
      })
      .map(({ key }) => key);
  }

  /** Save: the form must be complete, then core checks the merged config with the guard. */
  save() {
    assert.deepEqual(this.missing(), [], 'the form lets the admin save');
    const config = removeFalsyValues({ ...this.rawConfig, ...parseFormConfig(this.formConfig, this.items) });
    validateConfig(config, this.configGuard); // core's PATCH validates before storing
    this.store(config);
    this.load(config); // reset(convertResponseToForm(updatedConnector))
    return config;
  }

  /** The "Send" test: the parsed form alone, without the saved config. */
  testConfig() {
    return parseFormConfig(this.formConfig, this.items);
  }

  /** What the shown form means for a request: what an admin reading it expects. */
  meaning() {
    const auth =
      this.shown('authMethod') === 'apiKey'
        ? basicAuth(this.shown('apiKeySID'), this.shown('apiKeySecret'))
        : basicAuth(this.shown('accountSID'), this.shown('authToken'));
    const sender = this.shown('senderType');
    return {
      authorization: auth,
      MessagingServiceSid: sender === 'messagingService' ? this.shown('fromMessagingServiceSID') : undefined,
      From: sender === 'phoneNumber' ? this.shown('fromPhoneNumber') : undefined,
      RiskCheck: this.shown('disableRiskCheck') ? 'disable' : 'enable',
      ValidityPeriod: this.shown('validityPeriodMode') === 'custom' ? String(this.shown('validityPeriod')) : undefined,
      SmartEncoded: { on: 'true', off: 'false' }[this.shown('smartEncoded')],
    };
  }
}
