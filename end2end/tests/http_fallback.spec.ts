import { expect, test } from './support/fixtures';
import { NoUpgradeProxy } from './support/no_upgrade_proxy';
import { chatLog, memberNames, roomRow, sendChat, waitHydratedAndConnected } from './support/pages';
import { expectGrowing, joinCall, probedPage, tiles } from './support/call';

test('behind a proxy that refuses WebSocket, the lobby, room chat and a call work over HTTP', async ({ browser, server }) => {
  const proxy = await NoUpgradeProxy.start(server.url);
  const { context: aliceCtx, page: alice } = await probedPage(browser, { width: 1280, height: 800 });
  const { page: bob } = await probedPage(browser, { width: 1280, height: 800 });

  // Bob is on an open network; his room shows in Alice's lobby, live.
  await joinCall(bob, server.url, 'Bob', 'no-upgrade');
  await alice.goto(`${proxy.url}/`);
  await waitHydratedAndConnected(alice);
  const status = alice.getByTestId('conn-status');
  await expect(status).toHaveAttribute('data-transport', 'http');
  await expect(status).toContainText('Connected over HTTP');
  expect(proxy.refused).toBeGreaterThan(0);
  await expect(bob.getByTestId('conn-status')).toHaveAttribute('data-transport', 'websocket');
  await expect(roomRow(alice, 'no-upgrade')).toContainText('1');
  // On a phone the status is a dot, but this one says it in words.
  const phone = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  await phone.goto(`${proxy.url}/`);
  await expect(phone.getByTestId('conn-status')).toHaveAttribute('data-transport', 'http');
  await expect(phone.getByText('Connected over HTTP')).toBeVisible();
  await phone.screenshot({ path: 'screenshots/http-fallback-phone.png' });
  await phone.context().close();

  await joinCall(alice, proxy.url, 'Alice', 'no-upgrade');
  for (const page of [alice, bob]) await expect(memberNames(page)).toHaveText(['Bob', 'Alice']);
  await sendChat(alice, 'hello from behind the proxy');
  await expect(chatLog(bob)).toContainText('hello from behind the proxy');
  await sendChat(bob, 'hello back over the socket');
  await expect(chatLog(alice)).toContainText('hello back over the socket');

  // The call's offers, answers and candidates went through the fallback.
  for (const page of [alice, bob]) {
    await expect(tiles(page)).toHaveCount(2);
    await expect(page.locator('.tile[data-link="connected"]')).toHaveCount(1);
  }
  await expectGrowing(alice, 'video', 'framesDecoded', 10);
  await expectGrowing(bob, 'video', 'framesDecoded', 10);
  await alice.screenshot({ path: 'screenshots/http-fallback.png' });
  // A closed tab says goodbye (a beacon): Bob sees Alice leave now, not
  // after the 30 s a lost connection is held for.
  await aliceCtx.close();
  await expect(memberNames(bob)).toHaveText(['Bob'], { timeout: 10_000 });
  await proxy.stop();
});
