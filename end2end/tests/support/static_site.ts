import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../../..');
export const distDir = process.env.NOOM_DIST ?? path.join(root, 'dist');

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

/**
 * A plain static host for the Trunk build, as a CDN would be: files from
 * dist/, index.html for any other path (so room links work), and an
 * optional noom-config.json written by the test. No Noom code runs here.
 */
export class StaticSite {
  /** Served as /noom-config.json when set; otherwise that file is absent. */
  public config?: object;

  private constructor(
    private server: http.Server,
    public readonly port: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<StaticSite> {
    if (!fs.existsSync(path.join(distDir, 'index.html'))) {
      throw new Error(`${distDir}/index.html is missing: run \`trunk build --release\` first`);
    }
    let site: StaticSite | undefined;
    const server = http.createServer((req, res) => {
      const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      if (urlPath === '/noom-config.json' && site?.config) {
        res.writeHead(200, { 'content-type': types['.json'] });
        res.end(JSON.stringify(site.config));
        return;
      }
      const file = path.join(distDir, path.normalize(urlPath));
      const inside = file.startsWith(distDir + path.sep);
      const target = inside && fs.existsSync(file) && fs.statSync(file).isFile() ? file : path.join(distDir, 'index.html');
      if (target.endsWith('index.html') && path.extname(urlPath) !== '' && urlPath !== '/index.html') {
        res.writeHead(404).end(); // a missing asset, not a page
        return;
      }
      res.writeHead(200, { 'content-type': types[path.extname(target)] ?? 'application/octet-stream' });
      fs.createReadStream(target).pipe(res);
    });
    const port = await new Promise<number>((resolve) => {
      server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
    });
    site = new StaticSite(server, port);
    return site;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
