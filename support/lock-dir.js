// A lock between processes: a directory, since mkdir either creates it or fails (atomically).
// Shared by the test PKI (support/certs.js), made once per directory however many test files
// ask at once, and by support/logto-core.js: preparing a core (and its json-guard-fix copy)
// once per folder, and `logto db seed` and core's start-up one at a time per prepared core. The
// taker's pid is in the lock, so a lock left by a killed run is broken at once instead of after
// `staleMs`.
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Whether the process that took a lock is gone (its pid is in the lock's `owner` file). A lock
 * without one is its owner's for the moment between taking it and writing the file; one
 * older than 10 s was left by a process killed in that moment.
 */
function ownerGone(lockDir, takenAt) {
  let pid;
  try {
    pid = Number(readFileSync(join(lockDir, 'owner'), 'utf8'));
  } catch {
    return Date.now() - takenAt > 10_000;
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return error.code === 'ESRCH';
  }
}

/**
 * Takes the lock if it is free, or if its owner is gone or it is older than `staleMs` (left by
 * a killed process: it is broken, then taken). Returns whether it was taken.
 * Breaking is check-then-remove: two waiters that both find a dead owner at once, while a
 * third takes the lock between their removals, could end with two holders. The users here
 * (tests and benches on one machine) meet a dead owner only after a run was killed.
 */
function tryTake(lockDir, staleMs) {
  try {
    mkdirSync(lockDir);
    writeFileSync(join(lockDir, 'owner'), String(process.pid));
    return true;
  } catch (error) {
    if (error.code !== 'EEXIST') throw error;
  }
  const takenAt = statSync(lockDir, { throwIfNoEntry: false })?.mtimeMs;
  if (takenAt !== undefined && (Date.now() - takenAt > staleMs || ownerGone(lockDir, takenAt))) rmSync(lockDir, { recursive: true, force: true });
  return false;
}

const release = (lockDir) => rmSync(lockDir, { recursive: true, force: true });

/** Runs `fn` (synchronous) holding the lock; waits for it by blocking, 50 ms at a time. */
export function withLockDirSync(lockDir, fn, { staleMs }) {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  while (!tryTake(lockDir, staleMs)) Atomics.wait(sleeper, 0, 0, 50);
  try {
    return fn();
  } finally {
    release(lockDir);
  }
}

/**
 * Runs `fn` (asynchronous) holding the lock; waits for it without blocking the event loop,
 * 100 ms at a time, and throws `timeoutMessage` after `timeoutMs`.
 */
export async function withLockDir(lockDir, fn, { staleMs, timeoutMs, timeoutMessage }) {
  const deadline = Date.now() + timeoutMs;
  while (!tryTake(lockDir, staleMs)) {
    if (Date.now() > deadline) throw new Error(timeoutMessage);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  try {
    return await fn();
  } finally {
    release(lockDir);
  }
}
