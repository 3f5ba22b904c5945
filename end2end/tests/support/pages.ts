import { expect, Page } from '@playwright/test';

/** From the lobby: type a nickname and a room, create or join it, and stop
 *  at the pre-join screen once the camera is ready. */
export async function openPreJoin(page: Page, baseUrl: string, nickname: string, room: string) {
  await page.goto(`${baseUrl}/`);
  await waitHydratedAndConnected(page);
  await page.getByLabel('Your name').fill(nickname);
  await page.getByLabel('Room name').fill(room);
  await page.getByRole('button', { name: 'Create or join room' }).click();
  await expect(page).toHaveURL(`${baseUrl}/r/${room}`);
  await expect(page.getByRole('button', { name: 'Join now' })).toBeEnabled();
}

/** Lobby → room → pre-join → in the room. */
export async function enterRoomFromLobby(page: Page, baseUrl: string, nickname: string, room: string) {
  await openPreJoin(page, baseUrl, nickname, room);
  await joinFromPreJoin(page);
}

/** The pre-join screen: wait for the camera, then join. */
export async function joinFromPreJoin(page: Page) {
  const join = page.getByRole('button', { name: 'Join now' });
  await expect(join).toBeEnabled();
  await join.click();
  await expectJoined(page);
}

export async function waitHydratedAndConnected(page: Page) {
  await expect(page.getByTestId('conn-status')).toHaveAttribute('data-state', 'open');
}

export async function expectJoined(page: Page) {
  await expect(page.locator('main.room-main')).toHaveAttribute('data-joined', 'true');
}

export function roomRow(page: Page, room: string) {
  return page.locator(`li.room-row[data-room="${room}"]`);
}

export function memberNames(page: Page) {
  return page.getByTestId('member-list').locator('.member-name');
}

/** The call's control bar. */
export function controlBar(page: Page) {
  return page.getByRole('toolbar', { name: 'Call controls' });
}

/** Opens a side panel of the call if it is closed (on a phone, panels
 *  start closed). */
export async function openPanel(page: Page, panel: 'Chat' | 'People') {
  const toggle = controlBar(page).getByRole('button', { name: new RegExp(`^${panel}`) });
  if ((await toggle.getAttribute('aria-expanded')) === 'false') await toggle.click();
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
}

/** Opens the control bar's "More options" menu (layout and devices). */
export async function openMoreOptions(page: Page) {
  const more = controlBar(page).getByRole('button', { name: 'More options' });
  if ((await more.getAttribute('aria-expanded')) === 'false') await more.click();
  return page.getByRole('group', { name: 'More options' });
}

export async function sendChat(page: Page, text: string) {
  const box = page.getByLabel('Message', { exact: true });
  if (!(await box.isVisible())) await openPanel(page, 'Chat');
  await box.fill(text);
  await page.getByRole('button', { name: 'Send message' }).click();
}

export function chatLog(page: Page) {
  return page.getByTestId('chat-log');
}
