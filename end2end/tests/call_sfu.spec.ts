import { Page } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { expect, test } from './support/fixtures';
import { chatLog, controlBar, expectJoined, openMoreOptions, sendChat } from './support/pages';
import { NoomServer } from './support/server';
import {
  decodingVideoStreams,
  expectGrowing,
  inbound,
  installCameraRate,
  installVoice,
  joinCall,
  probedPage,
  selectedPairs,
  tileOf,
  tiles,
  widestVideo,
} from './support/call';

// Every room's call goes through the server's media engine (the SFU).
test.use({ serverArgs: ['--media-mode', 'sfu'] });

async function person(browser: any, name: string, room: string, url: string) {
  const p = { name, ...(await probedPage(browser, { width: 960, height: 640 })) };
  await joinCall(p.page, url, name, room);
  return p;
}

/** Someone whose microphone is a tone the test turns on (`speak`). */
async function voice(browser: any, name: string, room: string, url: string) {
  const p = await probedPage(browser, { width: 960, height: 640 });
  await installVoice(p.context);
  await installCameraRate(p.context, 10);
  // The server's `active_speaker` messages this page receives.
  const said: string[] = [];
  p.page.on('websocket', (ws) =>
    ws.on('framereceived', ({ payload }) => {
      if (typeof payload === 'string' && payload.includes('"active_speaker"')) said.push(payload);
    }),
  );
  await joinCall(p.page, url, name, room);
  const speak = (on: boolean) => p.page.evaluate((on) => (window as any).__voice(on), on);
  return { name, said, speak, ...p };
}

/** Per connected RTCPeerConnection: the selected pair's two ends, the remote with its port. */
const mediaEnds = (page: Page) => selectedPairs(page, true);

const peerConnectionsMade = (page: Page) => page.evaluate(() => (window as any).__pcs.length as number);

async function expectEveryoneThroughServer(pages: Page[], media: string) {
  for (const page of pages) {
    await expect(tiles(page)).toHaveCount(pages.length);
    await expect(page.locator('.tile[data-link="connected"]')).toHaveCount(pages.length - 1, { timeout: 30_000 });
    await expect.poll(() => decodingVideoStreams(page), { timeout: 30_000 }).toBe(pages.length - 1);
    // Two connections, publish and subscribe, both to the server's one UDP port.
    await expect.poll(() => mediaEnds(page), { timeout: 30_000 }).toEqual([
      { local: '127.0.0.1', remote: media },
      { local: '127.0.0.1', remote: media },
    ]);
  }
}

test('three people in an SFU room see and hear each other through the server; a fourth joins later', async ({ browser, server }) => {
  const media = await server.mediaAddr();
  const [ann, ben, cat] = [
    await person(browser, 'Ann', 'sfu', server.url),
    await person(browser, 'Ben', 'sfu', server.url),
    await person(browser, 'Cat', 'sfu', server.url),
  ];
  await expectEveryoneThroughServer([ann.page, ben.page, cat.page], media);
  for (const { page } of [ann, ben, cat]) {
    await expectGrowing(page, 'video', 'framesDecoded', 10);
    await expectGrowing(page, 'audio', 'packetsReceived', 20);
    await expect(page.getByTestId('route-badge')).toHaveText(/Through the server/);
  }
  await ann.page.screenshot({ path: 'screenshots/call-sfu.png' });
  // The same call on a phone: every tile and the route badge still fit.
  await ann.page.setViewportSize({ width: 390, height: 844 });
  await expect(ann.page.getByTestId('route-badge')).toBeInViewport();
  await ann.page.screenshot({ path: 'screenshots/call-sfu-phone.png' });
  await ann.page.setViewportSize({ width: 960, height: 640 });

  // Mute: Ann stops receiving Ben's audio energy, and sees the indicator.
  await expectGrowing(ann.page, 'audio', 'totalAudioEnergy');
  await ben.page.getByRole('button', { name: 'Mute microphone' }).click();
  await expect(tileOf(ann.page, 'Ben')).toHaveAttribute('data-audio', 'false');
  await expect(tileOf(cat.page, 'Ben')).toHaveAttribute('data-audio', 'false');
  await ben.page.getByRole('button', { name: 'Unmute microphone' }).click();
  await expect(tileOf(ann.page, 'Ben')).toHaveAttribute('data-audio', 'true');

  // Camera off and on again: the tile shows it, and frames come back.
  await ben.page.getByRole('button', { name: 'Turn camera off' }).click();
  await expect(tileOf(ann.page, 'Ben').getByTestId('camera-off')).toBeVisible();
  await ben.page.getByRole('button', { name: 'Turn camera on' }).click();
  await expect(tileOf(ann.page, 'Ben')).toHaveAttribute('data-video', 'true');
  await expectGrowing(ann.page, 'video', 'framesDecoded', 10);

  // Camera switch is replaceTrack on the publish sender: no new connection.
  const made = await peerConnectionsMade(ben.page);
  const picker = (await openMoreOptions(ben.page)).getByLabel('Switch camera');
  const target = await picker.locator('option', { hasText: 'fake_device_2' }).getAttribute('value');
  await picker.selectOption(target!);
  await controlBar(ben.page).getByRole('button', { name: 'More options' }).click();
  await expect
    .poll(() =>
      ben.page.evaluate(() =>
        ((window as any).__pcs as RTCPeerConnection[])
          .flatMap((pc) => pc.getSenders())
          .filter((s) => s.track?.label.includes('fake_device_2')).length,
      ),
    )
    .toBe(1);
  await expectGrowing(cat.page, 'video', 'framesDecoded', 10);
  expect(await peerConnectionsMade(ben.page)).toBe(made);

  // Screen share goes through the server like the camera.
  await ann.page.getByRole('button', { name: 'Share screen' }).click();
  await expect(tileOf(cat.page, 'Ann')).toHaveAttribute('data-presenting', 'true');
  // The screen arrives at its full size (wider than any camera), whoever
  // speaks: a presenter goes out in the top layer to everyone.
  const screenWidth = await ann.page.evaluate(() => {
    const screens = (window as any).__screens as MediaStreamTrack[];
    return screens[screens.length - 1].getSettings().width!;
  });
  expect(screenWidth).toBeGreaterThan(640);
  await expect.poll(() => widestVideo(cat.page), { timeout: 20_000 }).toBe(screenWidth);
  await ann.page.getByRole('button', { name: 'Stop sharing' }).click();
  await expect(tileOf(cat.page, 'Ann')).toHaveAttribute('data-presenting', 'false');

  // Cat leaves: the others drop the tile; nobody reconnects.
  const before = [await peerConnectionsMade(ann.page), await peerConnectionsMade(ben.page)];
  await cat.page.getByRole('button', { name: 'Leave room' }).click();
  for (const { page } of [ann, ben]) {
    await expect(tiles(page)).toHaveCount(2);
    await expect(tileOf(page, 'Cat')).toHaveCount(0);
  }

  // Dan joins later and sees everyone; the others take him in on the slots
  // Cat left, with the connections they already have.
  const dan = await person(browser, 'Dan', 'sfu', server.url);
  await expectEveryoneThroughServer([ann.page, ben.page, dan.page], media);
  await expectGrowing(dan.page, 'video', 'framesDecoded', 10);
  await expect(tileOf(ann.page, 'Dan')).toHaveAttribute('data-link', 'connected');
  expect([await peerConnectionsMade(ann.page), await peerConnectionsMade(ben.page)]).toEqual(before);
  await dan.page.screenshot({ path: 'screenshots/call-sfu-late-joiner.png' });

  // Direct chat and files still go browser to browser: ticking "direct"
  // opens data-only connections on demand (no media on them).
  await ann.page.getByLabel('Send directly (peer-to-peer)').check();
  await expect(ann.page.getByLabel('Send a file')).toBeEnabled({ timeout: 20_000 });
  await sendChat(ann.page, 'direct, not through the server');
  for (const { page } of [ben, dan]) {
    const got = chatLog(page).getByTestId('chat-message').filter({ hasText: 'direct, not through the server' });
    await expect(got).toHaveAttribute('data-via', 'p2p');
  }
  const bytes = randomBytes(256 * 1024);
  await ann.page.getByLabel('Send a file').setInputFiles({ name: 'notes.bin', mimeType: 'application/octet-stream', buffer: bytes });
  for (const { page } of [ben, dan]) {
    await expect(page.locator('[data-testid="transfer"][data-direction="in"]')).toHaveAttribute('data-done', 'true', { timeout: 30_000 });
  }
  // The direct connections carry no tracks: media still comes only from the server.
  const tracksOnDirect = await ann.page.evaluate(() =>
    ((window as any).__pcs as RTCPeerConnection[]).filter((pc) => pc.connectionState === 'connected' && pc.sctp && pc.getTransceivers().length > 0).length,
  );
  expect(tracksOnDirect).toBe(0);
  await expect.poll(() => decodingVideoStreams(ann.page)).toBe(2);
});

test('after a server restart (SIGTERM) the SFU call comes back on new connections', async ({ browser }) => {
  let server = await NoomServer.start('127.0.0.1:0', ['--media-mode', 'sfu']);
  const ann = await person(browser, 'Ann', 'deploy-day', server.url);
  const ben = await person(browser, 'Ben', 'deploy-day', server.url);
  await expectEveryoneThroughServer([ann.page, ben.page], await server.mediaAddr());
  expect(await server.terminate()).toBe(0);
  server = await server.startAgain();
  const media = await server.mediaAddr();
  for (const { page } of [ann, ben]) {
    await expect(page.getByTestId('conn-status')).toHaveAttribute('data-state', 'open', { timeout: 30_000 });
    await expectJoined(page);
  }
  // The rejoin opened new connections, to the new process's media port.
  await expectEveryoneThroughServer([ann.page, ben.page], media);
  await expectGrowing(ann.page, 'video', 'framesDecoded', 10);
  await server.stop();
});

test.describe('a mesh room the host routes through the server', () => {
  test.use({ serverArgs: [] });

  test('the host switches a live call to the server and back', async ({ browser, server }) => {
    const media = await server.mediaAddr();
    const host = await person(browser, 'Hana', 'switch', server.url);
    const guest = await person(browser, 'Gus', 'switch', server.url);
    for (const { page } of [host, guest]) {
      await expect(page.getByTestId('route-badge')).toHaveText(/End-to-end encrypted/);
      await expect.poll(() => decodingVideoStreams(page), { timeout: 30_000 }).toBe(1);
    }
    // Only the host has the switch.
    await expect(guest.page.getByRole('button', { name: 'Route through server' })).toHaveCount(0);

    await host.page.getByRole('button', { name: 'Route through server' }).click();
    await expect(host.page.getByRole('button', { name: 'Route through server' })).toHaveAttribute('aria-pressed', 'true');
    for (const { page } of [host, guest]) {
      await expect(page.getByTestId('route-badge')).toHaveText(/Through the server/);
      await expect(page.getByTestId('chat-log')).toContainText('Hana routed the call through the server');
      await expect.poll(() => mediaEnds(page), { timeout: 30_000 }).toEqual([
        { local: '127.0.0.1', remote: media },
        { local: '127.0.0.1', remote: media },
      ]);
      await expectGrowing(page, 'video', 'framesDecoded', 10);
    }

    await host.page.getByRole('button', { name: 'Route through server' }).click();
    for (const { page } of [host, guest]) {
      await expect(page.getByTestId('route-badge')).toHaveText(/End-to-end encrypted/);
      // Browser to browser again: one connection, not to the server's port.
      await expect.poll(async () => (await mediaEnds(page)).map((e) => e.remote === media), { timeout: 30_000 }).toEqual([false]);
      await expectGrowing(page, 'video', 'framesDecoded', 10);
    }
  });
});

/** Heights of the live cameras `page` holds. */
const cameraHeights = (page: Page) =>
  page.evaluate(() =>
    ((window as any).__tracks as MediaStreamTrack[])
      .filter((t) => t.kind === 'video' && t.readyState === 'live')
      .map((t) => t.getSettings().height),
  );

/** `page` sends its camera in three layers: 720p, 360p and 180p. */
async function expectThreeLayers(page: Page) {
  await expect
    .poll(() => sentLayers(page), { timeout: 20_000 })
    .toEqual([
      { rid: 'f', height: 720 },
      { rid: 'h', height: 360 },
      { rid: 'q', height: 180 },
    ]);
}

/** The simulcast layers `page` sends (rid and height), by rid. */
const sentLayers = (page: Page) =>
  page.evaluate(async () => {
    const layers: { rid: string; height: number }[] = [];
    for (const pc of (window as any).__pcs as RTCPeerConnection[]) {
      if (pc.connectionState === 'closed') continue;
      (await pc.getStats()).forEach((s: any) => {
        if (s.type === 'outbound-rtp' && s.kind === 'video' && s.rid && s.frameHeight) {
          layers.push({ rid: s.rid, height: s.frameHeight });
        }
      });
    }
    return layers.sort((a, b) => a.rid.localeCompare(b.rid));
  });

test.describe('the camera size follows the route', () => {
  test.use({ serverArgs: [] });

  test('through the server it goes up to 720p in three layers, in a mesh back to 360p', async ({ browser, server }) => {
    // A camera that can do 720p: the one place a test pays for three layers.
    const { page } = await probedPage(browser, { width: 960, height: 640 }, 'hd');
    await joinCall(page, server.url, 'Hana', 'sizes');
    await expect(page.getByTestId('route-badge')).toHaveText(/End-to-end encrypted/);
    await expect.poll(() => cameraHeights(page)).toEqual([360]);

    await page.getByRole('button', { name: 'Route through server' }).click();
    await expect(page.getByTestId('route-badge')).toHaveText(/Through the server/);
    await expect.poll(() => cameraHeights(page)).toEqual([720]);
    await expectThreeLayers(page);

    await page.getByRole('button', { name: 'Route through server' }).click();
    await expect(page.getByTestId('route-badge')).toHaveText(/End-to-end encrypted/);
    await expect.poll(() => cameraHeights(page)).toEqual([360]);
  });

  test('a camera another tab holds at its size grows once that tab lets go', async ({ browser, server }) => {
    // Another tab has the camera open at 640x480 (what asking for 360p
    // runs it at); the browser then cannot restart it at 720p.
    const other = await (await browser.newContext()).newPage();
    await other.goto(`${server.url}/`);
    await other.evaluate(async () => {
      const video = { width: { ideal: 640 }, height: { ideal: 360 } };
      (window as any).__held = await navigator.mediaDevices.getUserMedia({ video });
    });
    const { page } = await probedPage(browser, { width: 960, height: 640 }, 'hd');
    await joinCall(page, server.url, 'Hana', 'held');
    await expect.poll(() => cameraHeights(page)).toEqual([360]);

    await page.getByRole('button', { name: 'Route through server' }).click();
    await expect(page.getByTestId('route-badge')).toHaveText(/Through the server/);
    await expect.poll(() => cameraHeights(page)).toEqual([480]);
    // The other tab closes while the app is still trying.
    await other.context().close();
    await expect.poll(() => cameraHeights(page)).toEqual([720]);
    await expectThreeLayers(page);
  });
});

/** The height of the picture `page` shows on `name`'s tile. */
const shownHeight = (page: Page, name: string) =>
  tileOf(page, name)
    .locator('video')
    .evaluate((v: HTMLVideoElement) => v.videoHeight);

// The camera as the app asks for it, 640x360, goes out in two layers.
const LOW = 180;
const HIGH = 360;

test('the server hears who speaks: every page highlights them and gets them in high quality, the rest low', async ({
  browser,
  server,
}) => {
  const media = await server.mediaAddr();
  const people = [
    await voice(browser, 'Ann', 'voices', server.url),
    await voice(browser, 'Ben', 'voices', server.url),
    await voice(browser, 'Cat', 'voices', server.url),
  ];
  const [ann, ben, cat] = people;
  await expectEveryoneThroughServer(people.map((p) => p.page), media);
  const expectSpeaker = async (speaker: string | null) => {
    for (const { page, name: viewer } of people) {
      for (const { name } of people) {
        if (speaker) {
          await expect(tileOf(page, name)).toHaveAttribute('data-speaking', String(name === speaker), {
            timeout: 10_000,
          });
        }
        if (name === viewer) continue;
        await expect
          .poll(() => shownHeight(page, name), { timeout: 10_000, message: `${viewer} sees ${name}` })
          .toBe(name === speaker ? HIGH : LOW);
      }
    }
  };

  // Nobody speaks: everyone downloads everyone else's lowest layer.
  await expectSpeaker(null);
  const freezes = await Promise.all(people.map(({ page }) => inbound(page, 'video', 'freezeCount')));
  await ben.speak(true);
  await expectSpeaker('Ben');
  await ben.speak(false);
  await cat.speak(true);
  await expectSpeaker('Cat');
  // The pages did not decide it themselves: the server told each of them.
  for (const { said } of people) expect(said.length).toBeGreaterThanOrEqual(2);
  // Switching layers cost nobody a frozen picture.
  for (const [i, { page }] of people.entries()) {
    await expectGrowing(page, 'video', 'framesDecoded', 10);
    expect(await inbound(page, 'video', 'freezeCount')).toBe(freezes[i]);
  }

  // The call-quality panel says which size arrives.
  const quality = tileOf(ann.page, 'Cat').locator('button.quality');
  await quality.click();
  await expect(tileOf(ann.page, 'Cat').getByTestId('stats-video-size')).toHaveText(`640×${HIGH}`, {
    timeout: 10_000,
  });
  await quality.click();

  // Speaker view follows the server's choice too.
  await (await openMoreOptions(ben.page)).getByRole('button', { name: 'Speaker view' }).click();
  await expect(tileOf(ben.page, 'Cat')).toHaveClass(/featured/);
  await ben.page.screenshot({ path: 'screenshots/call-sfu-speaker.png' });
});

/** Whether `page` sends its camera's layer `rid` (`outbound-rtp.active`). */
const sendsLayer = (page: Page, rid: string) =>
  page.evaluate(async (rid) => {
    for (const pc of (window as any).__pcs as RTCPeerConnection[]) {
      if (pc.connectionState === 'closed') continue;
      let active: boolean | undefined;
      (await pc.getStats()).forEach((s: any) => {
        if (s.type === 'outbound-rtp' && s.kind === 'video' && s.rid === rid) active = s.active;
      });
      if (active !== undefined) return active;
    }
    return undefined;
  }, rid);

test.describe('larger layers nobody receives', () => {
  test.use({ serverArgs: ['--media-mode', 'sfu', '--pause-unused-layers-secs', '2'] });

  test('are paused in the browser, and resume when their owner speaks', async ({ browser, server }) => {
    const media = await server.mediaAddr();
    const people = [await voice(browser, 'Ann', 'upkeep', server.url), await voice(browser, 'Ben', 'upkeep', server.url)];
    const [ann, ben] = people;
    await expectEveryoneThroughServer([ann.page, ben.page], media);
    // Nobody speaks: nobody receives anyone's full size, so nobody encodes it.
    for (const { page } of people) {
      await expect.poll(() => sendsLayer(page, 'f'), { timeout: 15_000 }).toBe(false);
      expect(await sendsLayer(page, 'q')).toBe(true);
    }
    await expect.poll(() => shownHeight(ann.page, 'Ben')).toBe(LOW);

    // Ben speaks: his full size starts again and reaches Ann; Ann's stays off.
    await ben.speak(true);
    await expect.poll(() => sendsLayer(ben.page, 'f'), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => shownHeight(ann.page, 'Ben'), { timeout: 10_000 }).toBe(HIGH);
    expect(await sendsLayer(ann.page, 'f')).toBe(false);
    await expectGrowing(ann.page, 'video', 'framesDecoded', 10);
  });
});
