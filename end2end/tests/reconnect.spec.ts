import { expect, test } from '@playwright/test';
import { NoomServer } from './support/server';
import { chatLog, enterRoomFromLobby, expectJoined, memberNames, sendChat } from './support/pages';

test('after a server restart, pages reconnect and rejoin their room without a reload', async ({ browser }) => {
  let server = await NoomServer.start();
  const alice = await (await browser.newContext()).newPage();
  const bob = await (await browser.newContext()).newPage();
  await enterRoomFromLobby(alice, server.url, 'Alice', 'resilient');
  await enterRoomFromLobby(bob, server.url, 'Bob', 'resilient');
  await expect(memberNames(alice)).toHaveText(['Alice', 'Bob']);
  await sendChat(alice, 'before the restart');
  await expect(chatLog(bob)).toContainText('before the restart');

  // Mark the documents: a reload would lose this.
  for (const page of [alice, bob]) await page.evaluate(() => ((window as any).__noomMarker = 42));

  await server.stop();
  for (const page of [alice, bob]) {
    await expect(page.getByTestId('conn-status')).toHaveAttribute('data-state', 'reconnecting');
  }
  server = await server.restart();

  for (const page of [alice, bob]) {
    await expect(page.getByTestId('conn-status')).toHaveAttribute('data-state', 'open', { timeout: 30_000 });
    await expectJoined(page);
    // Join order after a restart is whoever reconnected first.
    await expect.poll(async () => (await memberNames(page).allTextContents()).sort()).toEqual(['Alice', 'Bob']);
    // Same document, history kept.
    expect(await page.evaluate(() => (window as any).__noomMarker)).toBe(42);
    await expect(chatLog(page)).toContainText('before the restart');
  }

  await sendChat(bob, 'after the restart');
  await expect(chatLog(alice).getByTestId('chat-message').last()).toContainText('after the restart');
  await server.stop();
});
