import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BrowserContext } from '@playwright/test';
import { freePort, listening } from './server';

/**
 * A real coturn (`turnserver`) of the test's own on loopback, with the REST
 * credentials Noom hands out (`static-auth-secret`). Pages reach it over
 * TCP; it relays to peers on loopback, which coturn refuses unless told.
 */
export class TurnServer {
  private constructor(
    private child: ChildProcess,
    public readonly port: number,
    public readonly secret: string,
    private dir: string,
  ) {}

  /** What `noom-server` needs to hand out credentials for it. */
  get noomArgs(): string[] {
    return ['--turn-url', `turn:127.0.0.1:${this.port}?transport=tcp`, '--turn-secret', this.secret];
  }

  static async start(): Promise<TurnServer> {
    const port = await freePort();
    const secret = `turn-test-${port}`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noom-turn-'));
    const child = spawn(
      'turnserver',
      [
        '-n', // no configuration file
        '--listening-ip=127.0.0.1',
        '--relay-ip=127.0.0.1',
        `--listening-port=${port}`,
        '--min-port=49152',
        '--max-port=65535',
        '--use-auth-secret',
        `--static-auth-secret=${secret}`,
        '--realm=noom.test',
        '--allow-loopback-peers',
        '--no-tls',
        '--no-dtls',
        '--no-cli',
        '--fingerprint',
        `--pidfile=${dir}/turnserver.pid`,
        `--userdb=${dir}/turndb`,
        '--log-file=stdout',
        '--simple-log',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let log = '';
    child.stdout!.on('data', (d) => (log += d));
    child.stderr!.on('data', (d) => (log += d));
    if (await listening(child, port)) return new TurnServer(child, port, secret, dir);
    throw new Error(`turnserver did not start:\n${log}`);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGKILL');
      await exited;
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Every peer connection the context's pages make uses relayed candidates
 * only (`iceTransportPolicy: "relay"`), as on a network where nothing but
 * the TURN server can be reached. Install after the probes.
 */
export async function relayOnly(context: BrowserContext) {
  await context.addInitScript(() => {
    const w = window as any;
    const Inner = w.RTCPeerConnection;
    const Relayed = function (this: any, config?: RTCConfiguration, ...rest: any[]) {
      return new Inner({ ...(config ?? {}), iceTransportPolicy: 'relay' }, ...rest);
    } as any;
    Relayed.prototype = Inner.prototype;
    w.RTCPeerConnection = Relayed;
  });
}
