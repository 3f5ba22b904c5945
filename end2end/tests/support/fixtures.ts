import { expect, test as base } from '@playwright/test';
import { NoomServer } from './server';

/**
 * `server`: the real Noom binary on a free loopback port, started for each
 * test that asks for it and stopped after it. `serverArgs` adds flags
 * (`test.use({ serverArgs: ['--max-peers', '1'] })`).
 */
export const test = base.extend<{ serverArgs: string[]; server: NoomServer }>({
  serverArgs: [[], { option: true }],
  server: async ({ serverArgs }, use) => {
    const server = await NoomServer.start('127.0.0.1:0', serverArgs);
    await use(server);
    await server.stop();
  },
});

export { expect };
