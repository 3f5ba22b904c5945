import { expect, Page, Response, test } from '@playwright/test';
import { NoomServer } from './support/server';
import { openPreJoin, waitHydratedAndConnected } from './support/pages';

// The room page, the call and the WebRTC engine are a separate wasm chunk
// (cargo leptos --split): the lobby must work without ever fetching it, and
// a room must fetch it, whether reached from the lobby or through a link.

let server: NoomServer;

test.beforeEach(async () => {
  server = await NoomServer.start();
});

test.afterEach(async () => {
  await server.stop();
});

const isRoomChunk = (url: string) => /\/pkg\/split_room_chunk_\d+\.wasm$/.test(url);

function recordResponses(page: Page): Response[] {
  const seen: Response[] = [];
  page.on('response', (response) => seen.push(response));
  return seen;
}

test('the lobby never downloads the room code; opening a room fetches it', async ({ page }) => {
  const responses = recordResponses(page);
  await page.goto(`${server.url}/`);
  await waitHydratedAndConnected(page);
  await expect(page.getByRole('heading', { name: 'Public rooms' })).toBeVisible();
  // The lobby is interactive: its form reacts to typing.
  await page.getByLabel('Room name').fill('weekly sync');
  await expect(page.getByText('noom link: /r/weekly-sync')).toBeVisible();
  expect(responses.map((r) => r.url()).filter(isRoomChunk)).toEqual([]);

  // The wasm is sent compressed (the build's precompressed copies).
  const wasm = responses.find((r) => r.url().endsWith('/pkg/noom.wasm'));
  expect(wasm, 'the main wasm was fetched').toBeTruthy();
  expect(['br', 'gzip']).toContain((await wasm!.allHeaders())['content-encoding']);

  await openPreJoin(page, server.url, 'Dana', 'weekly-sync');
  const chunks = responses.filter((r) => isRoomChunk(r.url()));
  expect(chunks.length).toBeGreaterThan(0);
  expect(chunks.every((r) => r.ok())).toBe(true);
});

test('a room link preloads the room chunk and hydrates the room page', async ({ page }) => {
  const responses = recordResponses(page);
  await page.goto(`${server.url}/r/design`);
  await waitHydratedAndConnected(page);
  // The server rendered a preload for the chunk this page needs.
  const preload = page.locator('link[rel="preload"][href*="split_room_chunk_"]');
  await expect(preload).toHaveCount(1);
  // Hydrated: the nickname prompt (shown only once the page is live) works.
  const prompt = page.getByRole('form', { name: /Join design/ });
  await prompt.getByLabel('Your name').fill('Eve');
  await prompt.getByRole('button', { name: 'Join room' }).click();
  await expect(page.getByRole('button', { name: 'Join now' })).toBeEnabled();
  expect(responses.some((r) => isRoomChunk(r.url()) && r.ok())).toBe(true);
});
