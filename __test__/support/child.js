// Runs an ES module source in a child Node with extra environment variables, for cases that
// need their own process (proxy and CA variables are read when the first client is built; a
// panic message would land on the child's stderr). Resolves with exit code, signal and output.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const runChild = (source, env = {}, killAfterMs = 30_000) =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', source], {
      cwd: root,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr });
    });
  });

/** The last stdout line of a child as JSON, or a failure naming what the child printed. */
export const lastJson = ({ stdout, stderr, code, signal }) => {
  try {
    return JSON.parse(stdout.trim().split('\n').at(-1));
  } catch {
    throw new Error(`child printed no JSON (exit ${code}, ${signal}):\n${stdout}\n${stderr}`);
  }
};
