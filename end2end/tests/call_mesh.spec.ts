import { expect, test } from './support/fixtures';
import { joinFromPreJoin } from './support/pages';
import {
  connectedPeerConnections,
  decodingVideoStreams,
  expectGrowing,
  joinCall,
  probedPage,
  tileOf,
  tiles,
} from './support/call';


async function person(browser: any, name: string) {
  return { name, ...(await probedPage(browser, { width: 960, height: 640 })) };
}

async function expectFullMesh(pages: { page: any }[]) {
  const n = pages.length;
  for (const { page } of pages) {
    await expect(tiles(page)).toHaveCount(n);
    await expect(page.locator('.tile[data-link="connected"]')).toHaveCount(n - 1, { timeout: 30_000 });
    await expect.poll(() => connectedPeerConnections(page), { timeout: 30_000 }).toBe(n - 1);
    await expect.poll(() => decodingVideoStreams(page), { timeout: 30_000 }).toBe(n - 1);
  }
}

test('three, then four people see each other in a full mesh; one leaves and the others drop the tile', async ({ browser, server }) => {
  const people = [];
  for (const name of ['Ann', 'Ben', 'Cat']) {
    const p = await person(browser, name);
    await joinCall(p.page, server.url, name, 'mesh');
    people.push(p);
  }
  await expectFullMesh(people);

  const dan = await person(browser, 'Dan');
  await joinCall(dan.page, server.url, 'Dan', 'mesh');
  people.push(dan);
  await expectFullMesh(people);
  await expectGrowing(dan.page, 'video', 'framesDecoded', 10);
  await dan.page.screenshot({ path: 'screenshots/call-four.png' });

  const [ann, ben, cat] = people;
  await cat.page.getByRole('button', { name: 'Leave room' }).click();
  for (const p of [ann, ben, dan]) {
    await expect(tiles(p.page)).toHaveCount(3);
    await expect(tileOf(p.page, 'Cat')).toHaveCount(0);
    await expect.poll(() => connectedPeerConnections(p.page)).toBe(2);
  }
  for (const p of people) await p.context.close();
});

test('two people who press join at the same instant still connect', async ({ browser, server }) => {
  const a = await person(browser, 'Ada');
  const b = await person(browser, 'Bea');
  await joinCall(a.page, server.url, 'Ada', 'glare', false);
  await joinCall(b.page, server.url, 'Bea', 'glare', false);
  await Promise.all([
    a.page.getByRole('button', { name: 'Join now' }).click(),
    b.page.getByRole('button', { name: 'Join now' }).click(),
  ]);
  await expectFullMesh([a, b]);
  await a.context.close();
  await b.context.close();
});

test('with the camera and microphone blocked, the pre-join screen explains and offers to join without them', async ({ browser, server }) => {
  const blocked = await person(browser, 'Eve');
  await blocked.context.addInitScript(() => {
    MediaDevices.prototype.getUserMedia = () =>
      Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
  });
  const page = blocked.page;
  await page.goto(`${server.url}/r/blocked`);
  await page.getByLabel('Your name').fill('Eve');
  await page.getByRole('button', { name: 'Join room' }).click();
  const problem = page.getByTestId('media-problem');
  await expect(problem).toContainText('access was blocked');
  await expect(problem.getByRole('button', { name: 'Try audio only' })).toBeVisible();
  await page.screenshot({ path: 'screenshots/prejoin-blocked.png' });
  await problem.getByRole('button', { name: 'Join without camera or mic' }).click();
  await expect(page.locator('main.room-main')).toHaveAttribute('data-joined', 'true');

  // Someone with a camera joins: Eve sees and hears them; they see Eve's placeholder.
  const fay = await person(browser, 'Fay');
  await joinCall(fay.page, server.url, 'Fay', 'blocked');
  await expectGrowing(page, 'video', 'framesDecoded', 10);
  await expect(tileOf(fay.page, 'Eve')).toHaveAttribute('data-video', 'false');
  await expect(tileOf(fay.page, 'Eve')).toHaveAttribute('data-audio', 'false');
  await expect(tileOf(fay.page, 'Eve').getByTestId('camera-off')).toBeVisible();
  await blocked.context.close();
  await fay.context.close();
});

test('a camera blocked, then allowed in the address bar: the lists say so, and "Try again" brings the preview', async ({ browser, server }) => {
  const { context, page } = await person(browser, 'Gil');
  await context.addInitScript(() => {
    const w = window as any;
    const gum = MediaDevices.prototype.getUserMedia;
    w.__blocked = true;
    MediaDevices.prototype.getUserMedia = function (this: MediaDevices, constraints?: MediaStreamConstraints) {
      if (w.__blocked) return Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
      return gum.call(this, constraints);
    };
  });
  await page.goto(`${server.url}/r/allowed-later`);
  await page.getByLabel('Your name').fill('Gil');
  await page.getByRole('button', { name: 'Join room' }).click();
  const problem = page.getByTestId('media-problem');
  await expect(problem).toContainText('Click the camera icon in the address bar');
  for (const device of ['Camera', 'Microphone']) {
    await expect(page.getByRole('combobox', { name: device })).toHaveText('Blocked');
  }
  await expect(page.getByRole('switch', { name: 'Microphone' })).toContainText('blocked');
  await page.screenshot({ path: 'screenshots/prejoin-blocked-try-again.png' });
  await page.setViewportSize({ width: 390, height: 844 });
  await expect(problem.getByRole('button', { name: 'Try again' })).toBeInViewport();
  await page.screenshot({ path: 'screenshots/prejoin-blocked-try-again-phone.png' });
  await page.setViewportSize({ width: 960, height: 640 });
  // The person allows it in the browser, then presses "Try again".
  await page.evaluate(() => ((window as any).__blocked = false));
  await problem.getByRole('button', { name: 'Try again' }).click();
  await expect(problem).toHaveCount(0);
  await expect(page.getByTestId('local-video')).toBeVisible();
  await expect(page.getByRole('combobox', { name: 'Camera' })).toContainText('fake_device_0');
  await page.getByRole('button', { name: 'Join now' }).click();
  await expect(page.locator('main.room-main')).toHaveAttribute('data-joined', 'true');
  await context.close();
});

test('a camera that fails to start once (busy, a driver hiccup) is asked again, and the preview comes up', async ({ browser, server }) => {
  const p = await person(browser, 'Hal');
  await p.context.addInitScript(() => {
    const real = MediaDevices.prototype.getUserMedia;
    let failures = 2;
    (window as any).__gumCalls = 0;
    MediaDevices.prototype.getUserMedia = function (this: MediaDevices, constraints?: MediaStreamConstraints) {
      (window as any).__gumCalls++;
      if (failures-- > 0) return Promise.reject(new DOMException('Could not start video source', 'NotReadableError'));
      return real.call(this, constraints);
    };
  });
  await joinCall(p.page, server.url, 'Hal', 'hiccup', false);
  await expect(p.page.getByTestId('media-problem')).toHaveCount(0);
  expect(await p.page.evaluate(() => (window as any).__gumCalls)).toBeGreaterThanOrEqual(3);
  await joinFromPreJoin(p.page);
  await expect(tileOf(p.page, 'Hal')).toHaveAttribute('data-video', 'true');
  await p.context.close();
});

test('the pre-join screen shows a live preview, a moving level meter and device pickers', async ({ browser, server }) => {
  const p = await person(browser, 'Gus');
  await joinCall(p.page, server.url, 'Gus', 'preview', false);
  await expect(p.page.getByLabel('Camera', { exact: true }).locator('option')).toHaveCount(3);
  await expect(p.page.getByLabel('Microphone', { exact: true }).locator('option')).not.toHaveCount(0);
  // The fake microphone beeps briefly about once a second: watch every
  // change of the meter rather than sampling it (which can miss the beeps).
  const moved = await p.page.getByTestId('mic-level').evaluate(
    (meter) =>
      new Promise<boolean>((resolve) => {
        const check = () => Number(meter.getAttribute('aria-valuenow')) > 0 && resolve(true);
        new MutationObserver(check).observe(meter, { attributes: true });
        check();
        setTimeout(() => resolve(false), 15_000);
      }),
  );
  expect(moved).toBe(true);
  await p.page.screenshot({ path: 'screenshots/prejoin.png' });
  // Joining muted with the camera off is honoured in the call.
  for (const name of ['Microphone', 'Camera']) {
    const toggle = p.page.getByRole('switch', { name, exact: true });
    await expect(toggle).toHaveAttribute('aria-checked', 'true');
    await toggle.click();
    await expect(toggle).toHaveAttribute('aria-checked', 'false');
  }
  await joinFromPreJoin(p.page);
  const me = p.page.locator('.tile.me');
  await expect(me).toHaveAttribute('data-audio', 'false');
  await expect(me).toHaveAttribute('data-video', 'false');
  await p.context.close();
});
