import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { forward } from './proxy';

/**
 * A load balancer in front of a cluster's nodes: page loads, server-sent
 * events, POSTs and WebSocket upgrades all go to `target`. A test moves the
 * target, as a rolling deploy takes a node out of rotation; open sockets
 * stay where they are until their node closes them.
 */
export class Balancer {
  private target: URL;

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
    target: string,
  ) {
    this.target = new URL(target);
  }

  static async start(target: string): Promise<Balancer> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const balancer = new Balancer(server, `http://127.0.0.1:${port}`, target);
    server.on('request', (req, res) => forward(req, res, balancer.target));
    server.on('upgrade', (req, socket, head) => {
      const to = balancer.target;
      const upstream = net.connect(Number(to.port), to.hostname, () => {
        let request = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
        for (let i = 0; i < req.rawHeaders.length; i += 2) {
          request += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
        }
        upstream.write(`${request}\r\n`);
        if (head.length) upstream.write(head);
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
      const end = () => {
        upstream.destroy();
        socket.destroy();
      };
      for (const side of [upstream, socket]) {
        side.on('error', end);
        side.on('close', end);
      }
    });
    return balancer;
  }

  /** New requests and sockets go to `target` from now on. */
  moveTo(target: string) {
    this.target = new URL(target);
  }

  async stop() {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
