import { expect, test } from './support/fixtures';
import { NoomServer } from './support/server';
import { chatLog, enterRoomFromLobby, expectJoined, memberNames, sendChat } from './support/pages';
import { expectGrowing, joinCall, probedPage, tiles } from './support/call';

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

test('a graceful restart (SIGTERM) says so on the page, and the call comes back by itself', async ({ browser }) => {
  let server = await NoomServer.start();
  const { context: aliceCtx, page: alice } = await probedPage(browser, { width: 1280, height: 800 });
  const { context: bobCtx, page: bob } = await probedPage(browser, { width: 1280, height: 800 });
  await joinCall(alice, server.url, 'Alice', 'deploy-day');
  await joinCall(bob, server.url, 'Bob', 'deploy-day');
  for (const page of [alice, bob]) await expect(page.locator('.tile[data-link="connected"]')).toHaveCount(1);
  await expectGrowing(alice, 'video', 'framesDecoded', 10);

  expect(await server.terminate()).toBe(0);
  for (const page of [alice, bob]) {
    const status = page.getByTestId('conn-status');
    await expect(status).toHaveAttribute('data-state', 'restarting');
    await expect(status).toContainText('Server restarting');
  }
  await alice.screenshot({ path: 'screenshots/server-restarting.png' });
  server = await server.startAgain();

  for (const page of [alice, bob]) {
    await expect(page.getByTestId('conn-status')).toHaveAttribute('data-state', 'open', { timeout: 30_000 });
    await expectJoined(page);
    await expect(tiles(page)).toHaveCount(2);
    await expect(page.locator('.tile[data-link="connected"]')).toHaveCount(1);
  }
  // New peer connections (new peer ids after the restart) carry video again.
  await expectGrowing(alice, 'video', 'framesDecoded', 10);
  await expectGrowing(bob, 'video', 'framesDecoded', 10);
  await aliceCtx.close();
  await bobCtx.close();
  await server.stop();
});
