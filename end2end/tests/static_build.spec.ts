import { expect, test } from './support/fixtures';
import { NoomServer } from './support/server';
import { StaticSite } from './support/static_site';
import { chatLog, memberNames, sendChat } from './support/pages';
import { expectGrowing, joinCall, probedPage, tiles } from './support/call';

// The Trunk build (dist/) on a plain static host at one origin, talking to a
// Noom server at another, which lists the static origin as allowed.
let server: NoomServer | undefined;
let site: StaticSite | undefined;
test.afterEach(async () => {
  await site?.stop();
  await server?.stop();
  site = server = undefined;
});

test('the static build, hosted elsewhere, runs chat and a call against a Noom server', async ({ browser }) => {
  site = await StaticSite.start();
  const noom = (server = await NoomServer.start('127.0.0.1:0', ['--allowed-origin', site.url]));
  site.config = { signaling_url: noom.url };

  const { context: aliceCtx, page: alice } = await probedPage(browser, { width: 1280, height: 800 });
  const { context: bobCtx, page: bob } = await probedPage(browser, { width: 1280, height: 800 });
  const sockets: string[] = [];
  for (const page of [alice, bob]) page.on('websocket', (ws) => sockets.push(ws.url()));

  await joinCall(alice, site.url, 'Alice', 'static-call');
  // Bob follows a shared link straight into the room: the host falls back
  // to index.html and the app routes on the client.
  await bob.goto(`${site.url}/r/static-call`);
  const prompt = bob.getByRole('form', { name: /Join static-call/ });
  await prompt.getByLabel('Your name').fill('Bob');
  await prompt.getByRole('button', { name: 'Join room' }).click();
  await bob.getByRole('button', { name: 'Join now' }).click();

  for (const page of [alice, bob]) {
    await expect(memberNames(page)).toHaveCount(2);
    await expect(tiles(page)).toHaveCount(2);
  }
  await expectGrowing(alice, 'video', 'framesDecoded', 10);
  await expectGrowing(bob, 'video', 'framesDecoded', 10);

  await sendChat(alice, 'hello from a static page');
  await expect(chatLog(bob).getByTestId('chat-message').last()).toContainText('hello from a static page');
  await sendChat(bob, 'and back');
  await expect(chatLog(alice).getByTestId('chat-message').last()).toContainText('and back');

  // Both pages came from the static host and signalled to the Noom server.
  expect(new Set(sockets)).toEqual(new Set([`ws://${noom.addr}/ws`]));
  expect(alice.url().startsWith(site.url)).toBe(true);
  await alice.screenshot({ path: 'screenshots/static-call.png' });
  await aliceCtx.close();
  await bobCtx.close();
});

test('without the config file the static build talks to its own origin', async ({ page }) => {
  site = await StaticSite.start();
  const sockets: string[] = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));
  await page.goto(`${site.url}/`);
  await expect.poll(() => sockets.length).toBeGreaterThan(0);
  expect(sockets[0]).toBe(`ws://127.0.0.1:${site.port}/ws`);
  // No server there: the page says so instead of pretending.
  await expect(page.getByTestId('conn-status')).not.toHaveAttribute('data-state', 'open');
});
