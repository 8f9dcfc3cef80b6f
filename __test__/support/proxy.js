// A small forward proxy for tests: `CONNECT host:port` tunnels and plain
// absolute-URI HTTP forwarding. It only ever connects to loopback, so a test that
// sends "to api.twilio.com" through it can never leak traffic: such names must be
// mapped to a local address through the `resolve` option.
import http from 'node:http';
import net from 'node:net';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** Split "host:port" / "[v6]:port" as found in a CONNECT request line. */
function splitAuthority(authority) {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(authority) ?? /^([^:[\]]+):(\d+)$/.exec(authority);
  if (!match) return null;
  const port = Number(match[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) return null;
  return { host: match[1].toLowerCase(), port };
}

/**
 * Start the proxy on an ephemeral 127.0.0.1 port.
 *
 * @param {object} [options]
 * @param {Record<string, string>} [options.resolve] e.g.
 *   `{ 'api.twilio.com:443': '127.0.0.1:PORT' }`: where a named target really goes.
 *   Mapped addresses must be loopback too.
 * @returns {Promise<{url, port, log, close}>} `log` entries:
 *   { method, target, headers, allowed, connectedTo? }
 */
export async function startConnectProxy({ resolve: mapping = {} } = {}) {
  const log = [];
  const sockets = new Set();
  const resolveMap = new Map(Object.entries(mapping).map(([from, to]) => [from.toLowerCase(), to]));

  /** Where the proxy may really connect for `host:port`, or null (refuse). */
  const destination = (host, port) => {
    const mapped = resolveMap.get(`${host}:${port}`);
    const target = mapped ? splitAuthority(mapped) : { host, port };
    return target && LOOPBACK.has(target.host) ? target : null;
  };

  const server = http.createServer((req, res) => {
    const entry = { method: req.method, target: req.url, headers: req.headers, allowed: false };
    log.push(entry);
    let url;
    try {
      url = new URL(req.url);
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('absolute URI required\n');
      return;
    }
    const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const dest = url.protocol === 'http:' ? destination(host, Number(url.port || 80)) : null;
    if (!dest) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('proxy: target not allowed\n');
      return;
    }
    entry.allowed = true;
    entry.connectedTo = `${dest.host}:${dest.port}`;

    // Drop hop-by-hop and proxy headers; everything else goes through untouched.
    const headers = { ...req.headers };
    for (const name of ['proxy-authorization', 'proxy-connection', 'connection', 'keep-alive']) delete headers[name];
    const upstream = http.request({ host: dest.host, port: dest.port, method: req.method, path: `${url.pathname}${url.search}`, headers }, (upstreamRes) => {
      res.writeHead(upstreamRes.statusCode, upstreamRes.statusMessage, upstreamRes.headers);
      upstreamRes.pipe(res);
    });
    upstream.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(`proxy: ${error.message}\n`);
      else res.destroy();
    });
    req.pipe(upstream);
  });

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  server.on('connect', (req, clientSocket, head) => {
    const entry = { method: 'CONNECT', target: req.url, headers: req.headers, allowed: false };
    log.push(entry);
    const authority = splitAuthority(req.url);
    const dest = authority && destination(authority.host, authority.port);
    if (!dest) {
      clientSocket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    entry.allowed = true;
    entry.connectedTo = `${dest.host}:${dest.port}`;
    const upstream = net.connect(dest.port, dest.host);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.once('connect', () => {
      clientSocket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head?.length) upstream.write(head);
      upstream.pipe(clientSocket);
      clientSocket.pipe(upstream);
    });
    upstream.on('error', () => {
      if (upstream.connecting) {
        clientSocket.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      } else {
        clientSocket.destroy();
      }
    });
    clientSocket.on('error', () => upstream.destroy());
    clientSocket.on('close', () => upstream.destroy());
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address();

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    log,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        // Tunnelled sockets are no longer tracked by the HTTP server.
        for (const socket of sockets) socket.destroy();
      }),
  };
}
