import { expect, test } from './support/fixtures';
import { NoomServer } from './support/server';
import { relayOnly, TurnServer } from './support/turn';
import { expectGrowing, joinCall, probedPage, selectedProtocols, selectedRoutes } from './support/call';
import { blockUdp, unblockUdp } from './support/firewall';

// People whose network lets nothing through but a TURN server over TCP:
// the recipe in README's "TURN" section, with a real coturn.
for (const mode of ['mesh', 'sfu']) {
  test(`with only TURN over TCP reachable, a ${mode} call connects through coturn`, async ({ browser }) => {
    const turn = await TurnServer.start();
    const server = await NoomServer.start('127.0.0.1:0', ['--media-mode', mode, ...turn.noomArgs]);
    try {
      const people = [];
      for (const name of ['Alice', 'Bob']) {
        const { context, page } = await probedPage(browser, { width: 960, height: 640 });
        await relayOnly(context);
        await joinCall(page, server.url, name, `relayed-${mode}`);
        people.push(page);
      }
      // Browser to browser, or each browser to the SFU: one connection or two.
      const connections = mode === 'mesh' ? 1 : 2;
      for (const page of people) {
        await expect.poll(() => selectedRoutes(page), { timeout: 30_000 }).toEqual(
          Array(connections).fill({ type: 'relay', via: 'tcp' }),
        );
        await expectGrowing(page, 'video', 'framesDecoded', 10);
        await expectGrowing(page, 'audio', 'packetsReceived', 10);
      }
      await people[0].screenshot({ path: `screenshots/turn-${mode}.png` });
    } finally {
      await server.stop();
      await turn.stop();
    }
  });
}

// ICE over TCP to the server: with no UDP at all and no TURN server, a call
// through the server still connects, to the TCP port beside its UDP one.
test('with UDP blocked and no TURN, a call through the server connects over TCP', async ({ browser }) => {
  const server = await NoomServer.start('127.0.0.1:0', ['--media-mode', 'sfu']);
  blockUdp();
  try {
    const people = [];
    for (const name of ['Alice', 'Bob']) {
      const { page } = await probedPage(browser, { width: 960, height: 640 });
      await joinCall(page, server.url, name, 'no-udp');
      people.push(page);
    }
    for (const page of people) {
      // Publish and subscribe connections, both over TCP.
      await expect.poll(() => selectedProtocols(page), { timeout: 30_000 }).toEqual(['tcp', 'tcp']);
      await expectGrowing(page, 'video', 'framesDecoded', 10);
      await expectGrowing(page, 'audio', 'packetsReceived', 10);
    }
    await people[0].screenshot({ path: 'screenshots/ice-tcp.png' });
  } finally {
    unblockUdp();
    await server.stop();
  }
});
