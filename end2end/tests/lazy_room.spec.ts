import { Page, Response } from '@playwright/test';
import { expect, test } from './support/fixtures';
import { openPreJoin, waitHydratedAndConnected } from './support/pages';

// The room page, the call and the WebRTC engine are a separate wasm chunk
// (cargo leptos --split): the lobby's first load must not include it, the
// lobby fetches it ahead once someone starts heading for a room, and a room
// link's page preloads it.


const isRoomChunk = (url: string) => /\/pkg\/split_room_chunk_\d+\.wasm$/.test(url);

function recordResponses(page: Page): Response[] {
  const seen: Response[] = [];
  page.on('response', (response) => seen.push(response));
  return seen;
}

test('the lobby loads without the room code, fetches it once someone heads for a room, and rooms open', async ({ page, server }) => {
  const responses = recordResponses(page);
  const chunkResponses = () => responses.filter((r) => isRoomChunk(r.url()));
  await page.goto(`${server.url}/`);
  await waitHydratedAndConnected(page);
  await expect(page.getByRole('heading', { name: 'Public rooms' })).toBeVisible();
  // Hydrated and live, and still no room code: it is not part of the first load.
  expect(chunkResponses()).toEqual([]);

  // The wasm is sent compressed (the build's precompressed copies).
  const wasm = responses.find((r) => r.url().endsWith('/pkg/noom.wasm'));
  expect(wasm, 'the main wasm was fetched').toBeTruthy();
  expect(['br', 'gzip']).toContain((await wasm!.allHeaders())['content-encoding']);

  // Typing in the form is the hint: the chunk is fetched while still in the lobby.
  await page.getByLabel('Room name').fill('weekly sync');
  await expect(page.getByText('noom link: /r/weekly-sync')).toBeVisible();
  await expect.poll(() => chunkResponses().length).toBeGreaterThan(0);
  await expect(page).toHaveURL(`${server.url}/`);

  await openPreJoin(page, server.url, 'Dana', 'weekly-sync');
  expect(chunkResponses().length).toBeGreaterThan(0);
  expect(chunkResponses().every((r) => r.ok())).toBe(true);
});

test('a room link preloads the room chunk and hydrates the room page', async ({ page, server }) => {
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

test('pages change through history without a reload, and a room opened before its code arrived shows once it does', async ({ page, server }) => {
  const responses = recordResponses(page);
  await page.goto(`${server.url}/`);
  await waitHydratedAndConnected(page);
  // Set on this document: a reload would lose it.
  await page.evaluate(() => ((window as unknown as { noomSameDocument: boolean }).noomSameDocument = true));
  // No focus or pointer on the lobby, so nothing was fetched ahead.
  expect(responses.filter((r) => isRoomChunk(r.url()))).toEqual([]);

  await page.evaluate(() => {
    history.pushState(null, '', '/r/late');
    dispatchEvent(new PopStateEvent('popstate'));
  });
  const prompt = page.getByRole('form', { name: /Join late/ });
  await expect(prompt).toBeVisible();
  await expect(page).toHaveTitle('late · Noom');
  expect(responses.some((r) => isRoomChunk(r.url()) && r.ok())).toBe(true);

  await page.goBack();
  await expect(page).toHaveURL(`${server.url}/`);
  await expect(page.getByRole('heading', { name: 'Public rooms' })).toBeVisible();
  await expect(page).toHaveTitle('Noom');
  await page.goForward();
  await expect(prompt).toBeVisible();

  // Our own links move without a reload too (from the pre-join screen,
  // where the top bar is not behind the nickname prompt).
  await prompt.getByLabel('Your name').fill('Finn');
  await prompt.getByRole('button', { name: 'Join room' }).click();
  await expect(page.getByRole('button', { name: 'Join now' })).toBeEnabled();
  await page.getByRole('link', { name: 'Noom home' }).click();
  await expect(page).toHaveURL(`${server.url}/`);
  await expect(page.getByRole('heading', { name: 'Public rooms' })).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { noomSameDocument?: boolean }).noomSameDocument)).toBe(true);
});
