import { Page } from '@playwright/test';
import { expect, test } from './support/fixtures';
import { Balancer } from './support/balancer';
import { NoomServer, RedisServer } from './support/server';
import { chatLog, expectJoined, roomRow, sendChat, waitHydratedAndConnected } from './support/pages';
import { expectGrowing, expectUnbroken, joinCall, probedPage, selectedPairs, tiles, watchedCallOfTwo } from './support/call';

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

test('a rolling deploy: the node a call is on stops, its page comes back through the other, and the call never stops', async ({ browser }) => {
  const redis = await RedisServer.start();
  const cluster = ['--redis-url', redis.url, '--resume-secret', 'rolling-deploy-secret'];
  const nodeA = await NoomServer.start('127.0.0.1:0', cluster);
  const nodeB = await NoomServer.start('127.0.0.1:0', cluster);
  const balancer = await Balancer.start(nodeA.url);
  try {
    const call = await watchedCallOfTwo(browser, [balancer.url, nodeB.url], 'rolling');
    const { alice, bob } = call;
    const lock = (page: Page) => page.getByRole('button', { name: 'Lock room' });
    await expect(lock(alice)).toBeVisible();

    // Node A leaves the rotation and is told to stop, as a deploy does it.
    // It exits once it has handed Alice's session to node B.
    balancer.moveTo(nodeB.url);
    const stopped = Date.now();
    expect(await nodeA.terminate()).toBe(0);
    console.log(`node A handed over and exited ${Date.now() - stopped} ms after SIGTERM`);
    await expect(alice.getByTestId('conn-status')).toHaveAttribute('data-state', 'open', { timeout: 30_000 });
    await expectJoined(alice);

    // Still the host, in the same call, chatting through node B.
    await expect(lock(alice)).toBeVisible();
    await expect(lock(bob)).toHaveCount(0);
    await sendChat(alice, 'through node B now');
    await expect(chatLog(bob)).toContainText('through node B now');
    await sendChat(bob, 'welcome over');
    await expect(chatLog(alice)).toContainText('welcome over');
    await expectUnbroken([alice, bob], call.connections);
    for (const page of [alice, bob]) await expect(chatLog(page)).not.toContainText(' left');
    await alice.screenshot({ path: 'screenshots/rolling-deploy.png' });
    await call.close();
  } finally {
    await balancer.stop();
    await nodeA.stop();
    await nodeB.stop();
    await redis.stop();
  }
});
