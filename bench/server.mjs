// Starts the Rust bench server (examples/bench_server.rs) in its own process and drives it
// over its plain-HTTP control port.
import { spawn } from 'node:child_process';
import http from 'node:http';
import { createInterface } from 'node:readline';

const control = (port, method, path) =>
  new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve(JSON.parse(body)));
    });
    req.on('error', reject).end();
  });

/** Resolves once the server listens: `{ port, controlPort, setMode, reset, stats, stop }`. */
export async function startServer({ binary, cert, key }) {
  const child = spawn(binary, ['--cert', cert, '--key', key], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const first = await new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`bench server exited (${code}) before listening`)));
  });
  const { port, control: controlPort } = JSON.parse(first);
  return {
    port,
    controlPort,
    pid: child.pid,
    setMode: ({ latencyMs = 0, limit = 0 }) => control(controlPort, 'POST', `/mode?latency_ms=${latencyMs}&limit=${limit}`),
    reset: () => control(controlPort, 'POST', '/reset'),
    stats: () => control(controlPort, 'GET', '/stats'),
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
