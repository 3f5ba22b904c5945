import { expect, test } from './support/fixtures';
import { expectGrowing, joinCall, probedPage, selectedPairs, tileOf } from './support/call';
import { blockUdp, unblockUdp } from './support/firewall';

const ufrag = (page: any) =>
  page.evaluate(() =>
    ((window as any).__pcs as RTCPeerConnection[])
      .filter((pc) => pc.signalingState !== 'closed')
      .map((pc) => /a=ice-ufrag:(\S+)/.exec(pc.localDescription?.sdp ?? '')?.[1])[0],
  );

test('when the media path dies, tiles show "reconnecting" and an ICE restart brings the call back', async ({ browser, server }) => {
  const { context: aCtx, page: alice } = await probedPage(browser);
  const { context: bCtx, page: bob } = await probedPage(browser);
  await joinCall(alice, server.url, 'Alice', 'flaky');
  await joinCall(bob, server.url, 'Bob', 'flaky');
  await expectGrowing(alice, 'video', 'framesDecoded', 10);
  const before = [await ufrag(alice), await ufrag(bob)];

  blockUdp();
  try {
    // Signaling (TCP) is still up; only the peer-to-peer path is gone.
    for (const [page, other] of [[alice, 'Bob'], [bob, 'Alice']] as const) {
      const tile = tileOf(page, other);
      await expect(tile).toHaveAttribute('data-link', 'reconnecting', { timeout: 30_000 });
      await expect(tile.getByRole('status')).toHaveText('Reconnecting…');
    }
    await alice.screenshot({ path: 'screenshots/call-reconnecting.png' });
    // Let the impolite side's restart start while the path is still down.
    await alice.waitForTimeout(5_000);
  } finally {
    unblockUdp();
  }

  for (const [page, other] of [[alice, 'Bob'], [bob, 'Alice']] as const) {
    await expect(tileOf(page, other)).toHaveAttribute('data-link', 'connected', { timeout: 45_000 });
  }
  await expectGrowing(alice, 'video', 'framesDecoded', 10);
  await expectGrowing(bob, 'video', 'framesDecoded', 10);
  // New ICE credentials on both ends: it was a restart, not a resumption.
  expect(await ufrag(alice)).not.toBe(before[0]);
  expect(await ufrag(bob)).not.toBe(before[1]);
  await aCtx.close();
  await bCtx.close();
});

test.describe('a call through the server', () => {
  test.use({ serverArgs: ['--media-mode', 'sfu'] });

  const made = (page: any): Promise<number> => page.evaluate(() => (window as any).__pcs.length);

  test('when the media path to the server dies, the call starts over on new connections and nobody leaves', async ({ browser, server }) => {
    const media = await server.mediaAddr();
    const { page: alice } = await probedPage(browser);
    const { page: bob } = await probedPage(browser);
    await joinCall(alice, server.url, 'Alice', 'flaky-sfu');
    await joinCall(bob, server.url, 'Bob', 'flaky-sfu');
    await expectGrowing(alice, 'video', 'framesDecoded', 10);
    await expectGrowing(bob, 'video', 'framesDecoded', 10);
    const before = [await made(alice), await made(bob)];

    // UDP alone would not do: the pages would carry on over TCP to the
    // server (ICE-TCP). Its TCP port goes too.
    blockUdp(Number(media.split(':').pop()));
    try {
      for (const [page, other] of [[alice, 'Bob'], [bob, 'Alice']] as const) {
        await expect(tileOf(page, other)).toHaveAttribute('data-link', 'reconnecting', { timeout: 30_000 });
      }
      // Each page gives up on its link and opens new connections (publish
      // and subscribe) while the path is still down.
      await expect.poll(() => made(alice), { timeout: 30_000 }).toBeGreaterThanOrEqual(before[0] + 2);
      await expect.poll(() => made(bob), { timeout: 30_000 }).toBeGreaterThanOrEqual(before[1] + 2);
    } finally {
      unblockUdp();
    }

    for (const [page, other] of [[alice, 'Bob'], [bob, 'Alice']] as const) {
      await expect(tileOf(page, other)).toHaveAttribute('data-link', 'connected', { timeout: 45_000 });
      await expectGrowing(page, 'video', 'framesDecoded', 10);
      await expectGrowing(page, 'audio', 'packetsReceived', 20);
      await expect.poll(() => selectedPairs(page, true), { timeout: 30_000 }).toEqual([
        { local: '127.0.0.1', remote: media },
        { local: '127.0.0.1', remote: media },
      ]);
      // The signaling socket never dropped: nobody left or joined again.
      await expect(page.getByTestId('chat-log')).not.toContainText(`${other} left`);
    }
  });
});
