// A raw TCP server on 127.0.0.1 that reads one HTTP request at a time and hands the socket to a
// misbehaviour of the test's choosing: silence, a stall, a drip, a reset, garbage, a flood.
import net from 'node:net';

const headEnd = Buffer.from('\r\n\r\n');

const contentLength = (head) => Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);

/**
 * @param {(socket: net.Socket, request: string, index: number) => void} onRequest called once
 *   per complete request (head and Content-Length body) with the raw request text.
 * @returns {Promise<{url, requests: string[], connections: number, close}>}
 */
export async function startFaultServer(onRequest) {
  const requests = [];
  const sockets = new Set();
  let connections = 0;
  const server = net.createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // The client hanging up mid-misbehaviour is expected.
    socket.on('error', () => {});
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf(headEnd);
      if (end < 0) return;
      const head = buffered.subarray(0, end).toString('latin1');
      const total = end + headEnd.length + contentLength(head);
      if (buffered.length < total) return;
      const request = buffered.subarray(0, total).toString('utf8');
      buffered = buffered.subarray(total);
      requests.push(request);
      onRequest(socket, request, requests.length - 1);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A complete HTTP/1.1 response head; `length` may promise more body than is ever sent. */
export const head = (status, length, extra = '') => `HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n${extra}\r\n`;
