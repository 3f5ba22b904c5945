import { createHash, randomBytes } from 'node:crypto';
import { expect, test } from './support/fixtures';
import { chatLog, controlBar, joinFromPreJoin, openMoreOptions, sendChat } from './support/pages';
import {
  connectedPeerConnections,
  expectGrowing,
  inbound,
  joinCall,
  probedPage,
  selectedPairs,
  tileOf,
  tiles,
} from './support/call';


test('two people in a call: video, loopback ICE, mute, camera off/on/switch, P2P chat and a file, leave', async ({ browser, server }) => {
  const { context: aliceCtx, page: alice } = await probedPage(browser, { width: 1280, height: 800 });
  const { context: bobCtx, page: bob } = await probedPage(browser, { width: 1280, height: 800 });

  await joinCall(alice, server.url, 'Alice', 'call-two');
  await joinCall(bob, server.url, 'Bob', 'call-two');
  for (const page of [alice, bob]) {
    await expect(tiles(page)).toHaveCount(2);
    await expect(page.locator('.tile[data-link="connected"]')).toHaveCount(1);
  }

  // Real frames are decoded on both sides (not just a ticking currentTime).
  await expectGrowing(alice, 'video', 'framesDecoded', 10);
  await expectGrowing(bob, 'video', 'framesDecoded', 10);
  await alice.screenshot({ path: 'screenshots/call-two.png' });

  // Inside the loopback-only namespace the selected pair is 127.0.0.1 on both ends.
  for (const page of [alice, bob]) {
    const pairs = await selectedPairs(page);
    expect(pairs).toHaveLength(1);
    expect(pairs[0]).toEqual({ local: '127.0.0.1', remote: '127.0.0.1' });
  }

  // Mute: Alice stops receiving audio energy from Bob, and sees the indicator.
  await expectGrowing(alice, 'audio', 'totalAudioEnergy');
  await bob.getByRole('button', { name: 'Mute microphone' }).click();
  await expect(tileOf(alice, 'Bob')).toHaveAttribute('data-audio', 'false');
  await alice.waitForTimeout(1500); // let in-flight audio drain
  const energyMuted = await inbound(alice, 'audio', 'totalAudioEnergy');
  await alice.waitForTimeout(2000);
  expect(await inbound(alice, 'audio', 'totalAudioEnergy')).toBeCloseTo(energyMuted, 6);
  await bob.keyboard.press('m'); // the shortcut unmutes
  await expect(tileOf(alice, 'Bob')).toHaveAttribute('data-audio', 'true');
  await expectGrowing(alice, 'audio', 'totalAudioEnergy');

  // Camera off: the indicator on Alice's side, and Bob's camera is released.
  await bob.getByRole('button', { name: 'Turn camera off' }).click();
  await expect(tileOf(alice, 'Bob')).toHaveAttribute('data-video', 'false');
  await expect(tileOf(alice, 'Bob').getByTestId('camera-off')).toBeVisible();
  const liveBobVideo = () =>
    bob.evaluate(() => (window as any).__tracks.filter((t: MediaStreamTrack) => t.kind === 'video' && t.readyState === 'live').length);
  expect(await liveBobVideo()).toBe(0);
  await bob.getByRole('button', { name: 'Turn camera on' }).click();
  await expect(tileOf(alice, 'Bob')).toHaveAttribute('data-video', 'true');
  await expectGrowing(alice, 'video', 'framesDecoded', 10);

  // Camera switch with replaceTrack: frames keep flowing, the sender's track changed.
  const cameraPicker = (await openMoreOptions(bob)).getByLabel('Switch camera');
  const target = await cameraPicker.locator('option', { hasText: 'fake_device_2' }).getAttribute('value');
  await cameraPicker.selectOption(target!);
  await controlBar(bob).getByRole('button', { name: 'More options' }).click();
  await expect
    .poll(() =>
      bob.evaluate(() =>
        ((window as any).__pcs as RTCPeerConnection[])
          .flatMap((pc) => pc.getSenders())
          .map((s) => s.track?.label ?? '')
          .filter((l) => l.includes('fake_device_2')).length,
      ),
    )
    .toBe(1);
  await expectGrowing(alice, 'video', 'framesDecoded', 10);
  expect(await liveBobVideo()).toBe(1);

  // Chat over the DataChannel, both ways.
  for (const [from, to, text] of [
    [alice, bob, 'direct hello from Alice'],
    [bob, alice, 'direct reply from Bob'],
  ] as const) {
    await from.getByLabel('Send directly (peer-to-peer)').check();
    await sendChat(from, text);
    const received = chatLog(to).getByTestId('chat-message').filter({ hasText: text });
    await expect(received).toHaveAttribute('data-via', 'p2p');
  }

  // A 1 MiB file arrives byte-identical (it never touches the server).
  const bytes = randomBytes(1024 * 1024);
  const sha = createHash('sha256').update(bytes).digest('hex');
  await alice.getByLabel('Send a file').setInputFiles({ name: 'blob.bin', mimeType: 'application/octet-stream', buffer: bytes });
  const incoming = bob.locator('[data-testid="transfer"][data-direction="in"]');
  await expect(incoming).toHaveAttribute('data-done', 'true', { timeout: 30_000 });
  await expect(alice.locator('[data-testid="transfer"][data-direction="out"]')).toHaveAttribute('data-done', 'true');
  const href = await incoming.getByTestId('download').getAttribute('href');
  const received = await bob.evaluate(async (url) => {
    const data = await (await fetch(url!)).arrayBuffer();
    const digest = await crypto.subtle.digest('SHA-256', data);
    return { size: data.byteLength, sha: [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('') };
  }, href);
  expect(received).toEqual({ size: bytes.length, sha });
  await bob.screenshot({ path: 'screenshots/call-chat-file.png' });

  // Leaving releases everything: tracks, connections, handlers.
  await bob.getByRole('button', { name: 'Leave room' }).click();
  await expect(tiles(alice)).toHaveCount(1);
  expect(await connectedPeerConnections(alice)).toBe(0);
  const leftovers = await bob.evaluate(() => ({
    liveTracks: (window as any).__tracks.filter((t: MediaStreamTrack) => t.readyState === 'live').length,
    openConnections: ((window as any).__pcs as RTCPeerConnection[]).filter((pc) => pc.signalingState !== 'closed').length,
    engine: (window as any).__noomRtc(),
  }));
  expect(leftovers).toEqual({ liveTracks: 0, openConnections: 0, engine: { peers: 0, listeners: 0, liveTracks: 0 } });

  // "Rejoin" on the screen after leaving goes back through the pre-join
  // screen into the same call.
  await expect(bob.getByTestId('left-call')).toBeVisible();
  await bob.getByRole('button', { name: 'Rejoin' }).click();
  await joinFromPreJoin(bob);
  await expect(tiles(alice)).toHaveCount(2);
  await expectGrowing(alice, 'video', 'framesDecoded', 10);

  // The whole call ran under the server's Content-Security-Policy.
  for (const page of [alice, bob]) expect(await page.evaluate(() => (window as any).__csp)).toEqual([]);

  await aliceCtx.close();
  await bobCtx.close();
});
