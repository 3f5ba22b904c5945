import { Page } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { expect, test } from './support/fixtures';
import { NoomServer } from './support/server';
import { chatLog, enterRoomFromLobby, expectJoined, memberNames, sendChat } from './support/pages';
import { expectGrowing, expectUnbroken, joinCall, probedPage, tiles, watchCall, watchedCallOfTwo, watched } from './support/call';

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

test('killed and restarted, the server keeps the host the host and the room locked, though a guest came back first', async ({ browser }) => {
  let server = await NoomServer.start('127.0.0.1:0', ['--resume-secret', 'host-seat-secret']);
  const hana = await (await browser.newContext()).newPage();
  const gus = await (await browser.newContext()).newPage();
  await enterRoomFromLobby(hana, server.url, 'Hana', 'seats');
  await enterRoomFromLobby(gus, server.url, 'Gus', 'seats');
  await expect(memberNames(gus)).toHaveText(['Hana', 'Gus']);
  const lock = (page: Page) => page.getByRole('button', { name: 'Lock room' });
  await expect(lock(hana)).toBeVisible();
  await expect(lock(gus)).toHaveCount(0);
  await lock(hana).click();
  await expect(gus.getByTestId('locked-badge')).toBeVisible();

  await server.stop();
  // Hana's page cannot reach the server until Gus is back in the room:
  // the rebuilt room has Gus alone, first, for a while.
  await hana.context().setOffline(true);
  server = await server.startAgain();
  await expect(gus.getByTestId('conn-status')).toHaveAttribute('data-state', 'open', { timeout: 30_000 });
  await expectJoined(gus);
  // Locked from its first moment, before its host is back (the page takes
  // `locked` from the new server's `joined`).
  await expect(gus.getByTestId('locked-badge')).toBeVisible();
  await hana.context().setOffline(false);
  await expect(hana.getByTestId('conn-status')).toHaveAttribute('data-state', 'open', { timeout: 30_000 });
  await expectJoined(hana);
  for (const page of [hana, gus]) await expect(memberNames(page)).toHaveText(['Hana', 'Gus']);
  // The room came back locked (Gus, first back, carried the lock), and
  // the server agrees: the host's controls are Hana's, and they work.
  const unlock = (page: Page) => page.getByRole('button', { name: 'Unlock room' });
  await expect(gus.getByTestId('locked-badge')).toBeVisible();
  await expect(unlock(gus)).toHaveCount(0);
  await expect(unlock(hana)).toHaveAttribute('aria-pressed', 'true');
  await unlock(hana).click();
  await expect(gus.getByTestId('locked-badge')).toHaveCount(0);
  await expect(lock(hana)).toBeVisible();
  await server.stop();
});

test('a graceful restart (SIGTERM) says so on the page, and the call never stops', async ({ browser }) => {
  // As a deploy runs it: the same resume secret for the old and new process.
  let server = await NoomServer.start('127.0.0.1:0', ['--resume-secret', 'deploy-day-secret']);
  const call = await watchedCallOfTwo(browser, [server.url, server.url], 'deploy-day');
  const { alice, bob } = call;

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
  // The same connections all along: nothing was torn down or negotiated again.
  await expectUnbroken([alice, bob], call.connections);
  await call.close();
  await server.stop();
});

// Two people and three: with three, each page has two connections to keep.
for (const names of [['Alice', 'Bob'], ['Alice', 'Bob', 'Cleo']]) {
  const n = names.length;
  test(`killed and restarted, the server costs a call of ${n} nothing: video, direct chat and files carry on`, async ({ browser }) => {
    let server = await NoomServer.start('127.0.0.1:0', ['--resume-secret', 'kill-nine-secret']);
    const people: Page[] = [];
    for (const name of names) {
      const { page } = await probedPage(browser, { width: 1280, height: 800 });
      await joinCall(page, server.url, name, 'steady');
      people.push(page);
    }
    const [alice, bob] = people;
    const others = (sender: Page) => people.filter((page) => page !== sender);
    for (const page of people) {
      await expect(page.locator('.tile[data-link="connected"]')).toHaveCount(n - 1);
      await expectGrowing(page, 'video', 'framesDecoded', 10);
      await watchCall(page);
    }

    await server.stop(); // SIGKILL: no goodbye to anyone
    for (const page of people) {
      await expect(page.getByTestId('conn-status')).toHaveAttribute('data-state', 'reconnecting');
      await expect(page.getByTestId('conn-status')).toContainText('Reconnecting to the server');
    }
    // What goes browser to browser does not need the server.
    await alice.getByLabel('Send directly (peer-to-peer)').check();
    await sendChat(alice, 'said while the server is down');
    for (const page of others(alice)) {
      const received = chatLog(page).getByTestId('chat-message').filter({ hasText: 'said while the server is down' });
      await expect(received).toHaveAttribute('data-via', 'p2p');
    }
    const bytes = randomBytes(256 * 1024);
    await bob.getByLabel('Send a file').setInputFiles({ name: 'notes.bin', mimeType: 'application/octet-stream', buffer: bytes });
    for (const page of others(bob)) {
      await expect(page.locator('[data-testid="transfer"][data-direction="in"]')).toHaveAttribute('data-done', 'true', {
        timeout: 30_000,
      });
    }
    if (n === 3) await alice.screenshot({ path: 'screenshots/server-down-call-goes-on.png' });
    server = await server.startAgain();
    const restarted = Date.now();

    for (const page of people) {
      await expect(page.getByTestId('conn-status')).toHaveAttribute('data-state', 'open', { timeout: 30_000 });
      await expectJoined(page);
    }
    // Everyone is back in the room on the server: it tells the newest of them everyone.
    for (const page of people) {
      await expect.poll(async () => (await memberNames(page).allTextContents()).sort()).toEqual([...names].sort());
    }
    // The figure README quotes: from the new process listening to the last
    // page back in the room (the pages' reconnect backoff is most of it).
    console.log(`room of ${n} complete again ${Date.now() - restarted} ms after the restart`);
    // Server chat works again without a reload.
    await sendChat(bob, 'through the server again');
    for (const page of others(bob)) {
      const received = chatLog(page).getByTestId('chat-message').filter({ hasText: 'through the server again' });
      await expect(received).not.toHaveAttribute('data-via', 'p2p');
    }
    for (const page of people) {
      await expectGrowing(page, 'video', 'framesDecoded', 10);
      const seen = await watched(page);
      console.log(`longest picture pause ${seen.longestStallMs} ms`);
      expect(seen.streams).toBe(n - 1);
      expect(seen.longestStallMs).toBeLessThan(1000);
      expect(seen.fewestPeople).toBe(n);
      await expect(chatLog(page)).not.toContainText(' left');
    }
    await server.stop();
  });
}
