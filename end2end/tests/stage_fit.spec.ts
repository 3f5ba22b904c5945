import { Page } from '@playwright/test';
import { expect, test } from './support/fixtures';
import { joinCall, probedPage, tiles } from './support/call';
import { sendChat } from './support/pages';

/** How much of the stage the tiles cover, and whether every tile is inside it. */
async function coverage(page: Page) {
  return page.evaluate(() => {
    const stage = document.querySelector('section.stage')!.getBoundingClientRect();
    const boxes = [...document.querySelectorAll('[data-testid="tile"]')].map((t) => t.getBoundingClientRect());
    const area = boxes.reduce((sum, b) => sum + b.width * b.height, 0);
    const inside = boxes.every(
      (b) => b.left >= stage.left - 1 && b.right <= stage.right + 1 && b.top >= stage.top - 1 && b.bottom <= stage.bottom + 1,
    );
    return { share: area / (stage.width * stage.height), inside };
  });
}

for (const size of [
  { name: 'desktop', viewport: { width: 1280, height: 800 } },
  { name: 'phone', viewport: { width: 390, height: 844 } },
]) {
  test(`the tiles grow to fill the stage for 1 to 3 people on a ${size.name}`, async ({ browser, server }) => {
    const people: Page[] = [];
    for (const name of ['Ann', 'Ben', 'Cat']) {
      const { page } = await probedPage(browser, size.viewport);
      await joinCall(page, server.url, name, 'fit');
      people.push(page);
      await expect(tiles(people[0])).toHaveCount(people.length);
      await expect
        .poll(() => coverage(people[0]), { message: `${people.length} in the room` })
        .toEqual({ share: expect.any(Number), inside: true });
      expect((await coverage(people[0])).share).toBeGreaterThan(0.45);
    }
    if (size.name === 'desktop') {
      // A long chat scrolls in its panel; the call controls stay on screen.
      for (let i = 1; i <= 25; i++) await sendChat(people[1], `line ${i} of a long chat`);
      await expect(people[0].getByTestId('chat-log')).toContainText('line 25 of a long chat');
      await expect(people[0].getByRole('button', { name: 'Leave room' })).toBeInViewport();
      await expect(people[0].getByRole('button', { name: 'Mute microphone' })).toBeInViewport();
      expect((await coverage(people[0])).share).toBeGreaterThan(0.45);
    }
    await people[0].screenshot({ path: `screenshots/call-grid-${size.name}.png` });
    // A window resized re-fits the grid.
    await people[0].setViewportSize({ width: size.viewport.width - 200 > 300 ? size.viewport.width - 200 : 360, height: size.viewport.height - 100 });
    await expect.poll(async () => (await coverage(people[0])).inside).toBe(true);
    expect((await coverage(people[0])).share).toBeGreaterThan(0.45);
  });
}

test('a window narrowed from desktop to phone width re-fits the call, with nothing off screen sideways', async ({ browser, server }) => {
  const people: Page[] = [];
  for (const name of ['Ann', 'Ben']) {
    const { page } = await probedPage(browser, { width: 1280, height: 800 });
    await joinCall(page, server.url, name, 'narrowed');
    people.push(page);
  }
  await expect(tiles(people[0])).toHaveCount(2);
  await expect.poll(() => coverage(people[0])).toEqual({ share: expect.any(Number), inside: true });
  await people[0].setViewportSize({ width: 390, height: 844 });
  await expect.poll(() => coverage(people[0])).toEqual({ share: expect.any(Number), inside: true });
  const sideways = await people[0].evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(sideways).toBeLessThanOrEqual(0);
  expect((await coverage(people[0])).share).toBeGreaterThan(0.45);
  await people[0].screenshot({ path: 'screenshots/call-narrowed-phone.png', fullPage: true });
});
