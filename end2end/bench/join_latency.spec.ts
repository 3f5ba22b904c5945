import { test } from '@playwright/test';
import { NoomServer } from '../tests/support/server';
import { installProbes, joinCall } from '../tests/support/call';

const RUNS = Number(process.env.RUNS ?? 7);

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

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

for (const size of [2, 4]) {
  test(`join to first remote frame, ${size} people`, async ({ browser }) => {
    const server = await NoomServer.start();
    const samples: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const room = `bench-${size}-${run}`;
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
      samples.push(await joinToFirstFrames(last, size - 1));
      for (const c of contexts) await c.close();
    }
    const line = `RESULT people=${size} runs=${RUNS} median_ms=${median(samples).toFixed(0)} min_ms=${Math.min(...samples).toFixed(0)} max_ms=${Math.max(...samples).toFixed(0)} samples=${samples.map((s) => s.toFixed(0)).join(',')}`;
    console.log(line);
    await server.stop();
  });
}
