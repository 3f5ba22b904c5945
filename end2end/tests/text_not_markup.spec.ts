import { expect, test } from './support/fixtures';
import { chatLog, enterRoomFromLobby, memberNames, sendChat } from './support/pages';
import { tileOf } from './support/call';

test('nicknames and messages are shown as text, never run as markup', async ({ browser, server }) => {
  const attack = '<img src=x onerror=alert(1)>';
  const dialogs: string[] = [];
  const people = [];
  for (const name of [attack, 'Bob']) {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await enterRoomFromLobby(page, server.url, name, 'markup');
    people.push({ context, page });
  }
  const [mallory, bob] = people.map((p) => p.page);
  await sendChat(mallory, attack);
  await sendChat(mallory, '<script>alert(2)</script><b>bold?</b>');

  for (const page of [mallory, bob]) {
    await expect(memberNames(page).filter({ hasText: attack })).toHaveCount(1);
    const texts = chatLog(page).locator('.msg-text');
    await expect(texts.filter({ hasText: '<script>alert(2)</script><b>bold?</b>' })).toHaveCount(1);
    await expect(texts.filter({ hasText: attack })).toHaveCount(1);
    await expect(tileOf(page, attack)).toHaveCount(1);
    // Nothing became an element: no image, no script, no bold.
    expect(await page.locator('img[src="x"], main script, main b').count()).toBe(0);
  }
  expect(dialogs).toEqual([]);
  for (const p of people) await p.context.close();
});
