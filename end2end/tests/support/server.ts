import { ChildProcess, spawn } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import * as readline from 'node:readline';

const root = path.resolve(__dirname, '../../..');
const binary = process.env.NOOM_SERVER_BIN ?? path.join(root, 'target/release/server');
const siteRoot = process.env.NOOM_SITE_ROOT ?? path.join(root, 'target/site');

/** The real Noom server binary, on a free loopback port. */
export class NoomServer {
  private constructor(
    private child: ChildProcess,
    public readonly addr: string,
    private extraArgs: string[] = [],
    private media: Promise<string> = Promise.reject(new Error('not started')),
  ) {}

  /** The SFU's announced UDP address (`--media-mode sfu`), e.g. `127.0.0.1:40123`. */
  mediaAddr(): Promise<string> {
    return this.media;
  }

  get url(): string {
    return `http://${this.addr}`;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Starts the server; `addr` defaults to a free port on 127.0.0.1. */
  static async start(addr = '127.0.0.1:0', extraArgs: string[] = []): Promise<NoomServer> {
    const child = spawn(binary, ['--addr', addr, '--log', process.env.NOOM_TEST_LOG ?? 'warn', ...extraArgs], {
      env: { ...process.env, LEPTOS_SITE_ROOT: siteRoot },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = readline.createInterface({ input: child.stdout! });
    // Printed right after the listening line when the SFU runs.
    const media = new Promise<string>((resolve) => {
      lines.on('line', (line) => {
        const m = /^noom media on udp:\/\/(\S+)$/.exec(line);
        if (m) resolve(m[1]);
      });
    });
    media.catch(() => {});
    const bound = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('server did not start in 15 s')), 15_000);
      child.once('exit', (code) => reject(new Error(`server exited early with ${code}`)));
      lines.on('line', (line) => {
        const m = /^noom listening on http:\/\/(\S+)$/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
    });
    return new NoomServer(child, bound, extraArgs, media);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exited;
  }

  /** `kill -TERM`, as systemd stops a service; resolves with the exit code. */
  async terminate(): Promise<number | null> {
    const exited = new Promise<number | null>((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.child.kill('SIGTERM');
    return exited;
  }

  /** Starts a new process on this one's address (after it stopped). */
  async startAgain(): Promise<NoomServer> {
    return NoomServer.start(this.addr, this.extraArgs);
  }

  /** Stops the process and starts a new one on the same address. */
  async restart(): Promise<NoomServer> {
    await this.stop();
    return NoomServer.start(this.addr, this.extraArgs);
  }
}

/** A loopback TCP port nobody listens on now. */
export async function freePort(): Promise<number> {
  return new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Waits (up to 5 s) until `child` accepts TCP connections on `port`;
 *  false if it exits or does not by then. */
export async function listening(child: ChildProcess, port: number): Promise<boolean> {
  for (let i = 0; i < 100 && child.exitCode === null; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (up) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** A real redis-server of the test's own, on a free loopback port. */
export class RedisServer {
  private constructor(
    private child: ChildProcess,
    public readonly port: number,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<RedisServer> {
    const port = await freePort();
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    if (await listening(child, port)) return new RedisServer(child, port);
    throw new Error('redis-server did not start');
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exited;
  }
}
