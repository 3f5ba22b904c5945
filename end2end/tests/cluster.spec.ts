import { expect, test } from './support/fixtures';
import { NoomServer, RedisServer } from './support/server';
import { chatLog, roomRow, sendChat, waitHydratedAndConnected } from './support/pages';
import { expectGrowing, joinCall, probedPage, selectedPairs, tiles } from './support/call';

test('two browsers on two nodes behind one Redis meet in one room: lobby, chat and a video call', async ({ browser }) => {
  const redis = await RedisServer.start();
  const nodeA = await NoomServer.start('127.0.0.1:0', ['--redis-url', redis.url]);
  const nodeB = await NoomServer.start('127.0.0.1:0', ['--redis-url', redis.url]);
  try {
    const { context: aCtx, page: alice } = await probedPage(browser);
    const { context: bCtx, page: bob } = await probedPage(browser);

    await joinCall(alice, nodeA.url, 'Alice', 'across');
    // Node B's lobby lists the room Alice made on node A.
    await bob.goto(`${nodeB.url}/`);
    await waitHydratedAndConnected(bob);
    await expect(roomRow(bob, 'across').getByTestId('room-count')).toHaveText('1 person');
    await joinCall(bob, nodeB.url, 'Bob', 'across');

    for (const page of [alice, bob]) {
      await expect(tiles(page)).toHaveCount(2);
      await expect(page.locator('.tile[data-link="connected"]')).toHaveCount(1);
    }
    await expectGrowing(alice, 'video', 'framesDecoded', 10);
    await expectGrowing(bob, 'video', 'framesDecoded', 10);
    expect(await selectedPairs(bob)).toEqual([{ local: '127.0.0.1', remote: '127.0.0.1' }]);

    await sendChat(alice, 'hello from node A');
    await expect(chatLog(bob)).toContainText('hello from node A');
    await sendChat(bob, 'hello from node B');
    await expect(chatLog(alice)).toContainText('hello from node B');
    await alice.screenshot({ path: 'screenshots/call-two-nodes.png' });
    await aCtx.close();
    await bCtx.close();
  } finally {
    await nodeA.stop();
    await nodeB.stop();
    await redis.stop();
  }
});
