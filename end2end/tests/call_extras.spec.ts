import { expect, test } from './support/fixtures';
import { openMoreOptions } from './support/pages';
import { NoomServer } from './support/server';
import { expectGrowing, inbound, joinCall, probedPage, tileOf } from './support/call';


async function pair(browser: any, server: NoomServer, room: string) {
  const pages = [];
  for (const name of ['Alice', 'Bob']) {
    const { page } = await probedPage(browser, { width: 1100, height: 720 });
    await joinCall(page, server.url, name, room);
    pages.push(page);
  }
  const [alice, bob] = pages;
  await expectGrowing(bob, 'video', 'framesDecoded', 5);
  return { alice, bob };
}

/** The widest frame being received: the camera is 640 wide; Chromium's fake
 *  screen is the size of the browser window (wider). */
const receivedWidth = (page: any) => inbound(page, 'video', 'frameWidth');

test('screen sharing reaches the other person, and stopping (button or browser) brings the camera back', async ({ browser, server }) => {
  const { alice, bob } = await pair(browser, server, 'share');
  await expect.poll(() => receivedWidth(bob)).toBe(640);

  await alice.getByRole('button', { name: 'Share screen' }).click();
  const presenter = tileOf(bob, 'Alice');
  await expect(presenter).toHaveAttribute('data-presenting', 'true');
  await expect(presenter).toHaveClass(/featured/);
  await expect(presenter).toContainText('presenting');
  await expect.poll(() => receivedWidth(bob), { timeout: 20_000 }).toBeGreaterThan(640);
  await expectGrowing(bob, 'video', 'framesDecoded', 10);
  await bob.screenshot({ path: 'screenshots/screen-share.png' });

  await alice.getByRole('button', { name: 'Stop sharing' }).click();
  await expect(presenter).toHaveAttribute('data-presenting', 'false');
  await expect.poll(() => receivedWidth(bob), { timeout: 20_000 }).toBe(640);
  expect(await alice.evaluate(() => (window as any).__screens.every((t: MediaStreamTrack) => t.readyState === 'ended'))).toBe(true);

  // The browser's own "stop sharing" ends the track: same result.
  await alice.getByRole('button', { name: 'Share screen' }).click();
  await expect.poll(() => receivedWidth(bob), { timeout: 20_000 }).toBeGreaterThan(640);
  await alice.evaluate(() => {
    const screens = (window as any).__screens as MediaStreamTrack[];
    screens[screens.length - 1].dispatchEvent(new Event('ended'));
  });
  await expect(presenter).toHaveAttribute('data-presenting', 'false');
  await expect.poll(() => receivedWidth(bob), { timeout: 20_000 }).toBe(640);
  await expect(alice.getByRole('button', { name: 'Share screen' })).toBeVisible();
});

test('a second person cannot share while someone else does, and is told why', async ({ browser, server }) => {
  const { alice, bob } = await pair(browser, server, 'one-sharer');
  await alice.getByRole('button', { name: 'Share screen' }).click();
  await expect(tileOf(bob, 'Alice')).toHaveAttribute('data-presenting', 'true');
  await bob.getByRole('button', { name: 'Share screen' }).click();
  await expect(bob.getByTestId('problem')).toContainText('Alice is already sharing their screen');
  await expect(bob.getByTestId('problem')).toHaveAttribute('data-code', 'share_taken');
  await expect
    .poll(() => bob.evaluate(() => (window as any).__screens.filter((t: MediaStreamTrack) => t.readyState === 'live').length))
    .toBe(0);
  await expect(tileOf(alice, 'Bob')).toHaveAttribute('data-presenting', 'false');
  await expect(tileOf(alice, 'Alice')).toHaveAttribute('data-presenting', 'true');
});

test('the active-speaker highlight follows whoever is not muted', async ({ browser, server }) => {
  const { alice, bob } = await pair(browser, server, 'speakers');
  await alice.getByRole('button', { name: 'Mute microphone' }).click();
  for (const page of [alice, bob]) {
    await expect(tileOf(page, 'Bob')).toHaveAttribute('data-speaking', 'true', { timeout: 20_000 });
    await expect(tileOf(page, 'Alice')).toHaveAttribute('data-speaking', 'false');
  }
  await bob.getByRole('button', { name: 'Mute microphone' }).click();
  await alice.getByRole('button', { name: 'Unmute microphone' }).click();
  for (const page of [alice, bob]) {
    await expect(tileOf(page, 'Alice')).toHaveAttribute('data-speaking', 'true', { timeout: 20_000 });
    await expect(tileOf(page, 'Bob')).toHaveAttribute('data-speaking', 'false');
  }
  await (await openMoreOptions(bob)).getByRole('button', { name: 'Speaker view' }).click();
  await expect(tileOf(bob, 'Alice')).toHaveClass(/featured/);
  await bob.screenshot({ path: 'screenshots/speaker-view.png' });
});

test('each remote tile shows a quality indicator and a live statistics panel', async ({ browser, server }) => {
  const { bob } = await pair(browser, server, 'stats');
  const quality = tileOf(bob, 'Alice').locator('button.quality');
  await expect(quality).toHaveAttribute('data-quality', /good|fair|poor/, { timeout: 20_000 });
  await quality.click();
  await expect(quality).toHaveAttribute('aria-expanded', 'true');
  const panel = tileOf(bob, 'Alice').getByTestId('stats-panel');
  await expect(panel).toBeVisible();
  await expect.poll(async () => Number(await panel.getAttribute('data-kbps')), { timeout: 20_000 }).toBeGreaterThan(0);
  await expect(panel).toContainText('kbps');
  await expect(panel.locator('polyline').first()).toHaveAttribute('points', /\d/);
  await bob.screenshot({ path: 'screenshots/call-stats.png' });
});
