import { expect, test } from './support/fixtures';
import { expectJoined, memberNames, roomRow, waitHydratedAndConnected } from './support/pages';
import { joinCall, probedPage, tileOf, tiles } from './support/call';


test('a passcode room: the lobby shows the lock, a guest is asked for it, and the host locks, mutes and removes', async ({ browser, server }) => {
  const { context: adaCtx, page: ada } = await probedPage(browser, { width: 1280, height: 800 });
  const { context: bobCtx, page: bob } = await probedPage(browser, { width: 1280, height: 800 });

  // Ada creates the room with a passcode.
  await ada.goto(`${server.url}/`);
  await waitHydratedAndConnected(ada);
  await ada.getByLabel('Your name').fill('Ada');
  await ada.getByLabel('Room name').fill('board-meeting');
  await ada.getByLabel('Room passcode').fill('open sesame');
  await ada.getByRole('button', { name: 'Create or join room' }).click();
  await ada.getByRole('button', { name: 'Join now' }).click();
  await expectJoined(ada);
  await expect(ada.getByTestId('host-badge')).toHaveCount(1);

  // Bob sees the lock in the lobby and joins from the list without it.
  await bob.goto(`${server.url}/`);
  await waitHydratedAndConnected(bob);
  await expect(roomRow(bob, 'board-meeting')).toHaveAttribute('data-passcode', 'true');
  await expect(roomRow(bob, 'board-meeting').getByLabel('needs a passcode')).toBeVisible();
  await bob.screenshot({ path: 'screenshots/lobby-passcode.png' });
  await bob.getByLabel('Your name').fill('Bob');
  await bob.getByRole('button', { name: 'Join room board-meeting' }).click();
  await bob.getByRole('button', { name: 'Join now' }).click();
  const prompt = bob.getByRole('form', { name: 'Room passcode' });
  await expect(prompt).toBeVisible();
  await expect(bob.getByTestId('problem')).toContainText('needs a passcode');
  await prompt.getByLabel('Passcode', { exact: true }).fill('open sesam');
  await prompt.getByRole('button', { name: 'Join with passcode' }).click();
  await expect(bob.getByTestId('problem')).toContainText('not right');
  await prompt.getByLabel('Passcode', { exact: true }).fill('open sesame');
  await prompt.getByRole('button', { name: 'Join with passcode' }).click();
  await expectJoined(bob);
  for (const page of [ada, bob]) await expect(tiles(page)).toHaveCount(2);

  // Only the host has the controls; Bob sees who the host is.
  await expect(bob.getByRole('group', { name: 'Host controls' })).toHaveCount(0);
  await expect(memberNames(bob)).toHaveText(['Ada', 'Bob']);
  await expect(bob.getByTestId('member-list').locator('li').first().getByTestId('host-badge')).toBeVisible();

  // "Mute everyone": Bob's microphone goes off, and Ada sees it on his tile.
  await expect(tileOf(ada, 'Bob')).toHaveAttribute('data-audio', 'true');
  await ada.getByRole('button', { name: 'Mute everyone' }).click();
  await expect(tileOf(ada, 'Bob')).toHaveAttribute('data-audio', 'false');
  await expect(bob.getByRole('button', { name: 'Unmute microphone' })).toBeVisible();
  await expect(bob.getByTestId('chat-log')).toContainText('Ada asked everyone to mute');

  // Lock: the lobby shows it and a newcomer is refused with the reason.
  await ada.getByRole('button', { name: 'Lock room' }).click();
  await expect(ada.getByRole('button', { name: 'Unlock room' })).toHaveAttribute('aria-pressed', 'true');
  await expect(bob.getByTestId('locked-badge')).toBeVisible();
  await ada.screenshot({ path: 'screenshots/host-controls.png' });
  const carol = await (await browser.newContext()).newPage();
  await carol.goto(`${server.url}/`);
  await waitHydratedAndConnected(carol);
  await expect(roomRow(carol, 'board-meeting')).toHaveAttribute('data-locked', 'true');
  await carol.goto(`${server.url}/r/board-meeting`);
  const nick = carol.getByRole('form', { name: /Join board-meeting/ });
  await nick.getByLabel('Your name').fill('Carol');
  await nick.getByRole('button', { name: 'Join room' }).click();
  await carol.getByRole('button', { name: 'Join now' }).click();
  await expect(carol.getByTestId('problem')).toContainText('locked');
  await expect(tiles(ada)).toHaveCount(2);

  // Remove: Bob is sent out, told by whom; Ada's call drops his tile.
  await ada.getByRole('button', { name: 'Remove Bob from the room' }).click();
  await expect(bob.getByTestId('problem')).toContainText('Ada removed you from board-meeting');
  await expect(bob.getByRole('button', { name: 'Join now' })).toBeVisible();
  await expect(tiles(ada)).toHaveCount(1);
  await expect(memberNames(ada)).toHaveText(['Ada']);

  await adaCtx.close();
  await bobCtx.close();
  await carol.context().close();
});
