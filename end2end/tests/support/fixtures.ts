import { expect, test as base } from '@playwright/test';
import { NoomServer } from './server';

/**
 * `server`: the real Noom binary on a free loopback port, started for each
 * test that asks for it and stopped after it. `serverArgs` adds flags
 * (`test.use({ serverArgs: ['--max-peers', '1'] })`).
 *
 * After every test, any browser context it opened and left open is closed:
 * such a page keeps its camera, microphone and peer connections (and, its
 * server gone, a reconnect loop) running into the next test, where
 * Chromium's fake devices then failed to start (NotReadableError).
 */
export const test = base.extend<{ serverArgs: string[]; server: NoomServer; closeLeftContexts: void }>({
  serverArgs: [[], { option: true }],
  closeLeftContexts: [
    async ({ browser }, use) => {
      await use();
      await Promise.all(browser.contexts().map((context) => context.close()));
    },
    { auto: true },
  ],
  server: async ({ serverArgs }, use) => {
    const server = await NoomServer.start('127.0.0.1:0', serverArgs);
    await use(server);
    await server.stop();
  },
});

export { expect };
