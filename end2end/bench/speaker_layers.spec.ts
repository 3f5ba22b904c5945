import { Browser, Page, test } from '@playwright/test';
import { NoomServer } from '../tests/support/server';
import { installProbes, installVoice, joinCall } from '../tests/support/call';

const RUNS = Number(process.env.RUNS ?? 7);
// The camera as the app asks for it (640x360) goes out in two layers.
const HIGH = 360;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function people(browser: Browser, server: NoomServer, room: string, size: number): Promise<Page[]> {
  const pages = [];
  for (let i = 0; i < size; i++) {
    const ctx = await browser.newContext({ viewport: { width: 960, height: 640 } });
    await installProbes(ctx);
    await installVoice(ctx);
    const page = await ctx.newPage();
    await joinCall(page, server.url, `P${i}`, room);
    pages.push(page);
  }
  // Everyone decodes everyone else before anything is measured.
  for (const page of pages) {
    await page.waitForFunction(
      (want) => document.querySelectorAll('.tile[data-link="connected"]').length === want,
      size - 1,
      { timeout: 60_000 },
    );
  }
  await pages[0].waitForTimeout(3_000);
  return pages;
}

/** Resolves (in the page) with `Date.now()` at the first frame of `name`'s tile at `height`. */
function seenAt(page: Page, name: string, height: number): Promise<number> {
  return page.evaluate(
    ([name, height]) =>
      new Promise<number>((resolve) => {
        const tile = [...document.querySelectorAll('[data-testid="tile"]')].find((t) =>
          t.textContent?.includes(name as string),
        )!;
        const video = tile.querySelector('video') as HTMLVideoElement;
        const check = (_now: number, meta: any) => {
          if (meta.height === height) resolve(Date.now());
          else video.requestVideoFrameCallback(check);
        };
        video.requestVideoFrameCallback(check);
      }),
    [name, height] as const,
  );
}

/** Bytes of video received by `page`, over all its connections. */
function videoBytes(page: Page): Promise<number> {
  return page.evaluate(async () => {
    let total = 0;
    for (const pc of (window as any).__pcs as RTCPeerConnection[]) {
      if (pc.connectionState === 'closed') continue;
      (await pc.getStats()).forEach((s: any) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') total += s.bytesReceived;
      });
    }
    return total;
  });
}

const speak = (page: Page, on: boolean) => page.evaluate((on) => (window as any).__voice(on), on);

test('speaker change to the new layer decoded, SFU, 3 people', async ({ browser }) => {
  const server = await NoomServer.start('127.0.0.1:0', ['--media-mode', 'sfu']);
  const pages = await people(browser, server, 'bench-speaker', 3);
  const samples: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    // P1 and P2 take turns; P0 only watches. Both others watch the speaker.
    const [speaker, quiet] = run % 2 === 0 ? [1, 2] : [2, 1];
    const watchers = pages.filter((_, i) => i !== speaker);
    const seen = watchers.map((page) => seenAt(page, `P${speaker}`, HIGH));
    await speak(pages[quiet], false);
    const t0 = Date.now();
    await speak(pages[speaker], true);
    for (const at of await Promise.all(seen)) samples.push(at - t0);
    await pages[0].waitForTimeout(2_000);
  }
  console.log(
    `RESULT speaker_to_high_layer people=3 runs=${RUNS} median_ms=${median(samples)} min_ms=${Math.min(...samples)} max_ms=${Math.max(...samples)} samples=${samples.join(',')}`,
  );
  await server.stop();
});

test('video download per person, 5 people, one speaking, mesh vs SFU', async ({ browser }) => {
  for (const mode of ['mesh', 'sfu']) {
    const server = await NoomServer.start('127.0.0.1:0', ['--media-mode', mode]);
    const pages = await people(browser, server, `bench-download-${mode}`, 5);
    await speak(pages[1], true);
    await pages[0].waitForTimeout(3_000);
    const before = await Promise.all(pages.map(videoBytes));
    await pages[0].waitForTimeout(10_000);
    const after = await Promise.all(pages.map(videoBytes));
    const kbps = after.map((a, i) => Math.round(((a - before[i]) * 8) / 10_000));
    console.log(`RESULT download mode=${mode} people=5 video_kbps_per_person=${kbps.join(',')} median=${median(kbps)}`);
    for (const page of pages) await page.context().close();
    await server.stop();
  }
});
