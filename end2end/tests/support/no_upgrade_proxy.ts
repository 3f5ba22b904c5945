import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { forward } from './proxy';

/**
 * A proxy in front of the real server that passes plain HTTP through (page
 * loads, the wasm, server-sent events, POSTs) and refuses every WebSocket
 * upgrade, as corporate proxies that strip `Upgrade` do. `refused` counts
 * the upgrades it turned away.
 */
export class NoUpgradeProxy {
  refused = 0;

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(target: string): Promise<NoUpgradeProxy> {
    const upstream = new URL(target);
    const server = http.createServer((req, res) => forward(req, res, upstream));
    const proxy = new NoUpgradeProxy(server, '');
    server.on('upgrade', (_req, socket) => {
      proxy.refused += 1;
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    (proxy as { url: string }).url = `http://127.0.0.1:${port}`;
    return proxy;
  }

  async stop() {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
