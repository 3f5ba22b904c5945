import { test } from '@playwright/test';
import { NoomServer } from '../tests/support/server';

const RUNS = Number(process.env.RUNS ?? 9);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Navigation start to the app's `noom-interactive` mark (set right after
// hydration), in a fresh browser context each time: nothing cached.
for (const path of ['/', '/r/standup']) {
  test(`time to interactive: ${path}`, async ({ browser }) => {
    const server = await NoomServer.start();
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${server.url}${path}`);
      const ms = await page.evaluate(async () => {
        for (;;) {
          const mark = performance.getEntriesByName('noom-interactive')[0];
          if (mark) return mark.startTime;
          await new Promise((r) => setTimeout(r, 5));
        }
      });
      times.push(ms);
      await context.close();
    }
    console.log(`RESULT interactive path=${path} runs=${RUNS} median_ms=${median(times).toFixed(0)} min_ms=${Math.min(...times).toFixed(0)} max_ms=${Math.max(...times).toFixed(0)}`);
    await server.stop();
  });
}
