// A throwaway Redis on 127.0.0.1 for the tests and the bench: Debian's redis-server (installed
// with apt-get when missing and running as root; otherwise the run fails saying so), no
// persistence, a free port, optionally a password and TLS. `command()` speaks RESP over a plain
// socket, so the tests can pause, flush or inspect the server without another client.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BINARY = '/usr/bin/redis-server';

/** redis-server's path, installed with apt-get when missing (root only). */
export function redisBinary() {
  if (!existsSync(BINARY) && process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    for (const args of [
      ['update', '-qq'],
      ['install', '-y', '-qq', '--no-install-recommends', 'redis-server'],
    ]) {
      // One apt-get at a time on this machine (test files install side by side), retried.
      const result = spawnSync(fileURLToPath(new URL('../scripts/with-apt-lock.sh', import.meta.url)), ['apt-get', ...args], { env, encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
    }
  }
  if (!existsSync(BINARY)) {
    throw new Error("Redis is missing: install Debian's redis-server package (apt-get install redis-server; the test does it itself when run as root)");
  }
  return BINARY;
}

export const freePort = () =>
  new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

/** Sends one command over RESP and resolves with the raw reply text. */
export const command = (port, args, password) =>
  new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const encode = (parts) => `*${parts.length}\r\n${parts.map((part) => `$${Buffer.byteLength(String(part))}\r\n${part}\r\n`).join('')}`;
    let reply = '';
    const expected = password ? 2 : 1;
    socket.on('data', (chunk) => {
      reply += chunk;
      if (reply.split('\r\n').length > expected) {
        socket.end();
        resolve(password ? reply.slice(reply.indexOf('\r\n') + 2) : reply);
      }
    });
    socket.on('error', reject);
    socket.write((password ? encode(['AUTH', password]) : '') + encode(args));
  });

/**
 * Starts redis-server. `tls: { cert, key, ca }` (PEM file paths) serves TLS only.
 * Returns `{ port, url, stop(), restart(), command(args) }`; `url` carries the password.
 */
export async function startRedis({ password, tls } = {}) {
  const binary = redisBinary();
  const dir = mkdtempSync(join(tmpdir(), 'redis-'));
  const port = await freePort();
  const args = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'no'];
  if (password) args.push('--requirepass', password);
  if (tls) {
    args.push('--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.cert, '--tls-key-file', tls.key);
    args.push('--tls-ca-cert-file', tls.ca, '--tls-auth-clients', 'no');
  } else {
    args.push('--port', String(port));
  }
  let child;
  const start = async () => {
    child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const deadline = Date.now() + 10_000;
    while (!/Ready to accept connections/.test(output)) {
      if (!running() || Date.now() > deadline) throw new Error(`redis-server did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  // A child killed by a signal has a signalCode and no exitCode.
  const running = () => child && child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    if (!running()) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  await start();
  const auth = password ? `:${encodeURIComponent(password)}@` : '';
  return {
    port,
    url: `${tls ? 'rediss' : 'redis'}://${auth}127.0.0.1:${port}`,
    command: (commandArgs) => command(port, commandArgs, password),
    stop,
    /** A crash and a start on the same port: every count is lost (no persistence). */
    restart: async () => {
      await stop();
      await start();
    },
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
