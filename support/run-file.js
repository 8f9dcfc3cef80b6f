// Runs a program to completion and resolves with what a test or script needs to judge it:
// `{ status, stdout, stderr }` (status 0 on success), never rejecting. A child Node run from
// inside `node --test` must not report to the parent's runner, so the runner's variables are
// dropped; `npm` is `npm.cmd` on Windows, which only a shell runs.
import { execFile } from 'node:child_process';

export const runFile = (file, args, { env = process.env, ...options } = {}) =>
  new Promise((resolve) => {
    const { NODE_TEST_CONTEXT, NODE_OPTIONS, ...childEnv } = env;
    execFile(
      file,
      args,
      { encoding: 'utf8', maxBuffer: 16 << 20, shell: process.platform === 'win32' && file === 'npm', ...options, env: childEnv },
      (error, stdout, stderr) => resolve({ status: error ? (error.code ?? 1) : 0, stdout, stderr })
    );
  });
