import { expect, test } from './support/fixtures';
import {
  chatLog,
  enterRoomFromLobby,
  joinFromPreJoin,
  memberNames,
  roomRow,
  sendChat,
  waitHydratedAndConnected,
} from './support/pages';


test('two people meet in a room, chat both ways, and one leaves', async ({ browser, server }) => {
  const alice = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const bob = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const aliceRoom = await alice.newPage();
  const bobRoom = await bob.newPage();

  await enterRoomFromLobby(aliceRoom, server.url, 'Alice', 'standup');
  await expect(memberNames(aliceRoom)).toHaveText(['Alice']);

  // Bob opens the lobby, sees the room with Alice in it and joins from the list.
  await bobRoom.goto(`${server.url}/`);
  await waitHydratedAndConnected(bobRoom);
  await expect(bobRoom).toHaveTitle('Noom');
  await expect(roomRow(bobRoom, 'standup').getByTestId('room-count')).toHaveText('1 person');
  await bobRoom.getByLabel('Your name').fill('Bob');
  await roomRow(bobRoom, 'standup').getByRole('button', { name: 'Join room standup' }).click();
  await expect(bobRoom).toHaveURL(`${server.url}/r/standup`);
  await expect(bobRoom).toHaveTitle('standup · Noom');
  await joinFromPreJoin(bobRoom);
  await expect(memberNames(bobRoom)).toHaveText(['Alice', 'Bob']);
  await expect(memberNames(aliceRoom)).toHaveText(['Alice', 'Bob']);
  await expect(chatLog(aliceRoom)).toContainText('Bob joined');

  // Each of them also has the lobby open in a second tab: both show 2.
  const aliceLobby = await alice.newPage();
  const bobLobby = await bob.newPage();
  for (const lobby of [aliceLobby, bobLobby]) {
    await lobby.goto(`${server.url}/`);
    await waitHydratedAndConnected(lobby);
    await expect(roomRow(lobby, 'standup').getByTestId('room-count')).toHaveText('2 people');
  }
  // The nickname was remembered for the next visit.
  await expect(aliceLobby.getByLabel('Your name')).toHaveValue('Alice');
  await aliceLobby.screenshot({ path: 'screenshots/lobby.png' });

  // Chat both ways; the sender sees their own message immediately.
  await sendChat(aliceRoom, 'Hello Bob!');
  await expect(chatLog(aliceRoom).getByTestId('chat-message').last()).toContainText('Hello Bob!');
  const fromAlice = chatLog(bobRoom).getByTestId('chat-message').last();
  await expect(fromAlice).toContainText('Alice');
  await expect(fromAlice).toContainText('Hello Bob!');
  await expect(fromAlice.locator('time')).toHaveText(/^\d\d:\d\d$/);

  await sendChat(bobRoom, 'Hi Alice, ready when you are.');
  const fromBob = chatLog(aliceRoom).getByTestId('chat-message').last();
  await expect(fromBob).toContainText('Bob');
  await expect(fromBob).toContainText('Hi Alice, ready when you are.');
  await expect(chatLog(aliceRoom).locator('.msg.pending')).toHaveCount(0);
  await aliceRoom.screenshot({ path: 'screenshots/room.png' });

  // Bob leaves with the button: a "you left" screen, then back to the
  // lobby; Alice is alone.
  await bobRoom.getByRole('button', { name: 'Leave room' }).click();
  await expect(bobRoom.getByRole('heading', { name: 'You left the call' })).toBeVisible();
  await expect(bobRoom.getByRole('button', { name: 'Rejoin' })).toBeVisible();
  await bobRoom.getByRole('link', { name: 'Back to the lobby' }).click();
  await expect(bobRoom).toHaveURL(`${server.url}/`);
  await expect(chatLog(aliceRoom)).toContainText('Bob left');
  await expect(memberNames(aliceRoom)).toHaveText(['Alice']);
  await expect(aliceRoom.getByTestId('member-count')).toHaveText('1');
  for (const lobby of [aliceLobby, bobLobby, bobRoom]) {
    await expect(roomRow(lobby, 'standup').getByTestId('room-count')).toHaveText('1 person');
  }

  // Closing the tab leaves too: the room disappears from the lobby.
  await aliceRoom.close();
  await expect(roomRow(bobLobby, 'standup')).toHaveCount(0);
  await expect(bobLobby.getByText('No rooms yet')).toBeVisible();

  await alice.close();
  await bob.close();
});

test('a shared link asks for a nickname first, and the room works on a phone', async ({ browser, server }) => {
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await phone.newPage();
  await page.goto(`${server.url}/r/design-review`);
  await expect(page).toHaveTitle('design-review · Noom');
  const prompt = page.getByRole('form', { name: /Join design-review/ });
  await expect(prompt).toBeVisible();
  await prompt.getByLabel('Your name').fill('Carol');
  await prompt.getByRole('button', { name: 'Join room' }).click();
  await joinFromPreJoin(page);
  await expect(prompt).toHaveCount(0);
  await expect(memberNames(page)).toHaveText(['Carol']);
  await sendChat(page, 'Anyone here?');
  await expect(chatLog(page).getByTestId('chat-message').last()).toContainText('Anyone here?');

  // Nothing sticks out sideways on a narrow screen.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await page.screenshot({ path: 'screenshots/room-phone.png', fullPage: true });
  await phone.close();
});

test('a bad room link explains itself', async ({ page, server }) => {
  await page.goto(`${server.url}/r/not%20valid!`);
  await expect(page.getByRole('heading', { name: "That isn't a room name" })).toBeVisible();
  await page.getByRole('link', { name: 'Back to the lobby' }).click();
  await expect(page).toHaveURL(`${server.url}/`);
  await expect(page).toHaveTitle('Noom');
});
