import AxeBuilder from '@axe-core/playwright';
import { Page } from '@playwright/test';
import { expect, test } from './support/fixtures';
import { joinCall, probedPage } from './support/call';
import { openPreJoin, sendChat, waitHydratedAndConnected } from './support/pages';

/** axe-core's serious and critical findings (WCAG 2.1 A/AA and best practice), one line each. */
async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'])
    .analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

for (const size of [
  { name: 'desktop', viewport: { width: 1280, height: 800 } },
  { name: 'phone', viewport: { width: 390, height: 844 } },
]) {
  test(`lobby, pre-join and call pass axe on a ${size.name}`, async ({ browser, server }) => {
    const host = await probedPage(browser, size.viewport);
    const guest = await probedPage(browser, size.viewport);
    await joinCall(host.page, server.url, 'Hana', 'a11y');

    // The lobby, with a live room in its list.
    await guest.page.goto(`${server.url}/`);
    await waitHydratedAndConnected(guest.page);
    await expect(guest.page.locator('li.room-row[data-room="a11y"]')).toBeVisible();
    expect(await seriousViolations(guest.page)).toEqual([]);

    // The pre-join screen, camera preview on.
    await openPreJoin(guest.page, server.url, 'Gus', 'a11y');
    await expect(guest.page.getByTestId('local-video')).toBeVisible();
    expect(await seriousViolations(guest.page)).toEqual([]);

    // In the call, with someone else's tile and a chat line.
    await guest.page.getByRole('button', { name: 'Join now' }).click();
    await expect(guest.page.getByTestId('tile')).toHaveCount(2);
    await sendChat(host.page, 'hello there');
    await expect(guest.page.getByTestId('chat-log')).toContainText('hello there');
    expect(await seriousViolations(guest.page)).toEqual([]);
    expect(await seriousViolations(host.page)).toEqual([]);
  });
}

test('the first Tab stop skips to the page content', async ({ browser, server }) => {
  const { page } = await probedPage(browser);
  await page.goto(`${server.url}/`);
  await waitHydratedAndConnected(page);
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to main content' });
  await expect(skip).toBeFocused();
  await expect(skip).toBeInViewport();
  await page.keyboard.press('Enter');
  await expect(page.locator('main#main')).toBeFocused();
  // The next Tab lands inside the page content, past the top bar.
  await page.keyboard.press('Tab');
  expect(await page.evaluate(() => !!document.activeElement?.closest('main'))).toBe(true);
});
