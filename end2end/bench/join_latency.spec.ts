import * as fs from 'node:fs';
import { test } from '@playwright/test';
import { NoomServer } from '../tests/support/server';
import { installProbes, joinCall } from '../tests/support/call';

const RUNS = Number(process.env.RUNS ?? 7);
const MODES = ['mesh', 'sfu'] as const;

/** Press "Join now", then wait (inside the page) until every remote video decodes a frame. */
async function joinToFirstFrames(page: any, remotes: number): Promise<number> {
  return page.evaluate(async (want: number) => {
    const decoding = async () => {
      let n = 0;
      for (const pc of (window as any).__pcs as RTCPeerConnection[]) {
        if (pc.signalingState === 'closed') continue;
        (await pc.getStats()).forEach((s: any) => {
          if (s.type === 'inbound-rtp' && s.kind === 'video' && s.framesDecoded > 0) n += 1;
        });
      }
      return n;
    };
    const button = [...document.querySelectorAll('button')].find((b) => b.textContent?.trim() === 'Join now')!;
    const t0 = performance.now();
    button.click();
    while ((await decoding()) < want) await new Promise((r) => setTimeout(r, 5));
    return performance.now() - t0;
  }, remotes);
}

/** CPU seconds (user + system) the server's media thread has used. */
function mediaThreadCpu(pid: number): number {
  const ticks = Number(process.env.CLK_TCK ?? 100);
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    const comm = fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
    if (comm !== 'noom-media') continue;
    const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticks;
  }
  throw new Error('no noom-media thread');
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

for (const size of [2, 4]) {
  test(`join to first remote frame, ${size} people, mesh and SFU`, async ({ browser }) => {
    const servers = {
      mesh: await NoomServer.start(),
      sfu: await NoomServer.start('127.0.0.1:0', ['--media-mode', 'sfu']),
    };
    const samples: Record<string, number[]> = { mesh: [], sfu: [] };
    const cpu: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      // Interleaved, so both modes see the same state of the machine.
      for (const mode of MODES) {
        const server = servers[mode];
        const room = `bench-${mode}-${size}-${run}`;
        const contexts = [];
        for (let i = 0; i < size; i++) {
          const ctx = await browser.newContext({ viewport: { width: 800, height: 600 } });
          await installProbes(ctx);
          contexts.push(ctx);
        }
        const pages = await Promise.all(contexts.map((c) => c.newPage()));
        for (let i = 0; i < size - 1; i++) await joinCall(pages[i], server.url, `P${i}`, room);
        const last = pages[size - 1];
        await joinCall(last, server.url, `P${size - 1}`, room, false);
        samples[mode].push(await joinToFirstFrames(last, size - 1));
        if (mode === 'sfu') {
          // The media thread's share of a core while everyone is in the call.
          await last.waitForTimeout(2_000);
          const before = mediaThreadCpu(server.pid);
          await last.waitForTimeout(10_000);
          cpu.push((mediaThreadCpu(server.pid) - before) / 10);
        }
        for (const c of contexts) await c.close();
      }
    }
    for (const mode of MODES) {
      const xs = samples[mode];
      console.log(
        `RESULT mode=${mode} people=${size} runs=${RUNS} median_ms=${median(xs).toFixed(0)} min_ms=${Math.min(...xs).toFixed(0)} max_ms=${Math.max(...xs).toFixed(0)} samples=${xs.map((s) => s.toFixed(0)).join(',')}`,
      );
    }
    // Each person's audio and video go to every other: size*(size-1) of each.
    const forwarded = 2 * size * (size - 1);
    const share = median(cpu);
    console.log(
      `RESULT sfu_media_thread people=${size} forwarded_streams=${forwarded} cpu_core_share_median=${(share * 100).toFixed(2)}% per_stream=${((share * 100) / forwarded).toFixed(3)}% samples=${cpu.map((c) => (c * 100).toFixed(2)).join(',')}`,
    );
    await servers.mesh.stop();
    await servers.sfu.stop();
  });
}
