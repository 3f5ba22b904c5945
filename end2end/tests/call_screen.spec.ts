// The call screen around the video: the control bar at the bottom, the
// chat and people panels that open and close, the unread badge, and a
// phone layout with the call first and no page scroll.
import { Page } from '@playwright/test';
import { expect, test } from './support/fixtures';
import { joinCall, probedPage, tileOf, tiles } from './support/call';
import { chatLog, controlBar, memberNames, openMoreOptions, openPanel, sendChat } from './support/pages';

const stageWidth = (page: Page) => page.locator('section.stage').evaluate((s) => s.getBoundingClientRect().width);
const chatButton = (page: Page) => controlBar(page).getByRole('button', { name: /^Chat/ });

async function call(browser: any, server: any, room: string, viewport: { width: number; height: number }) {
  const ann = (await probedPage(browser, viewport)).page;
  await joinCall(ann, server.url, 'Ann', room);
  const ben = (await probedPage(browser, { width: 1280, height: 800 })).page;
  await joinCall(ben, server.url, 'Ben', room);
  await expect(tiles(ann)).toHaveCount(2);
  return { ann, ben };
}

test('panels close to give the call the screen, and the chat button counts what came meanwhile', async ({ browser, server }) => {
  const { ann, ben } = await call(browser, server, 'panels', { width: 1280, height: 800 });
  // A desktop starts with both panels beside the call.
  await expect(ann.getByRole('region', { name: 'Chat' })).toBeVisible();
  await expect(ann.getByRole('region', { name: /^People/ })).toBeVisible();
  const narrow = await stageWidth(ann);

  // One closes from the bar, the other with its own close button.
  await chatButton(ann).click();
  await ann.getByRole('button', { name: 'Close people' }).click();
  await expect(ann.getByRole('region', { name: 'Chat' })).toBeHidden();
  await expect(ann.getByRole('region', { name: /^People/ })).toBeHidden();
  await expect.poll(() => stageWidth(ann)).toBeGreaterThan(narrow + 300);
  await expect(chatButton(ann)).toHaveAttribute('aria-expanded', 'false');

  // Ben writes twice: Ann's button counts both.
  await sendChat(ben, 'first while closed');
  await sendChat(ben, 'second while closed');
  await expect(chatButton(ann)).toHaveAccessibleName('Chat, 2 unread messages');
  await expect(controlBar(ann).getByTestId('unread')).toHaveText('2');
  await ann.screenshot({ path: 'screenshots/call-panels-closed.png' });

  // Opened from the keyboard, the chat shows them and the count goes.
  await chatButton(ann).focus();
  await ann.keyboard.press('Enter');
  await expect(chatLog(ann)).toContainText('second while closed');
  await expect(chatButton(ann)).toHaveAccessibleName('Chat');
  await expect(controlBar(ann).getByTestId('unread')).toBeHidden();
  // While it is open, nothing piles up.
  await sendChat(ben, 'seen at once');
  await expect(chatLog(ann)).toContainText('seen at once');
  await expect(chatButton(ann)).toHaveAccessibleName('Chat');
});

test('on a phone the call fills the screen, panels are sheets over it, and the page never scrolls', async ({ browser, server }) => {
  const { ann, ben } = await call(browser, server, 'phone-call', { width: 390, height: 844 });
  const fitsTheScreen = () =>
    ann.evaluate(() => document.documentElement.scrollHeight <= window.innerHeight && document.documentElement.scrollWidth <= window.innerWidth);
  // Nothing but the call: no panel open, no page scroll, every control on screen.
  await expect(ann.getByRole('region', { name: 'Chat' })).toBeHidden();
  await expect(ann.getByRole('region', { name: /^People/ })).toBeHidden();
  expect(await fitsTheScreen()).toBe(true);
  for (const name of ['Mute microphone', 'Turn camera off', 'Share screen', 'More options', 'Chat', 'People', 'Leave room']) {
    await expect(controlBar(ann).getByRole('button', { name, exact: true })).toBeInViewport({ ratio: 1 });
  }
  const stage = await ann.locator('section.stage').boundingBox();
  expect(stage!.height).toBeGreaterThan(844 * 0.6);
  await ann.screenshot({ path: 'screenshots/call-phone.png' });

  // People is a sheet over the stage, with the bar still below it.
  await openPanel(ann, 'People');
  const people = ann.getByRole('region', { name: /^People/ });
  await expect(people).toBeInViewport({ ratio: 1 });
  await expect(people.getByTestId('member-list')).toContainText('Ben');
  await expect(controlBar(ann)).toBeInViewport({ ratio: 1 });
  // Opening the chat closes it: one sheet at a time.
  await openPanel(ann, 'Chat');
  await expect(people).toBeHidden();
  await sendChat(ben, 'hello phone');
  await expect(chatLog(ann)).toContainText('hello phone');
  await sendChat(ann, 'hello desk');
  await expect(chatLog(ben)).toContainText('hello desk');
  expect(await fitsTheScreen()).toBe(true);
  await ann.screenshot({ path: 'screenshots/call-phone-chat.png' });
  // The sheet's own button closes it; so does Escape.
  await ann.getByRole('button', { name: 'Close chat' }).click();
  await expect(ann.getByRole('region', { name: 'Chat' })).toBeHidden();
  await openPanel(ann, 'People');
  await ann.keyboard.press('Escape');
  await expect(people).toBeHidden();

  // Reactions fit, with the raise-hand button the bar has no room for.
  await controlBar(ann).getByRole('button', { name: 'Send a reaction' }).click();
  const reactions = ann.getByRole('group', { name: 'Reactions' });
  await expect(reactions).toBeInViewport({ ratio: 1 });
  await reactions.getByRole('button', { name: 'Raise hand' }).click();
  await expect(tileOf(ben, 'Ann').getByRole('img', { name: 'hand raised' })).toBeVisible();
  await expect(reactions.getByRole('button', { name: 'Lower hand' })).toHaveAttribute('aria-pressed', 'true');
  await ann.screenshot({ path: 'screenshots/call-phone-reactions.png' });
  await ann.keyboard.press('Escape');
  await expect(reactions).toBeHidden();

  // The menu's devices and layout fit the phone too.
  const menu = await openMoreOptions(ann);
  await expect(menu).toBeInViewport({ ratio: 1 });
  await expect(menu.getByLabel('Switch camera')).toBeVisible();
  await ann.screenshot({ path: 'screenshots/call-phone-more.png' });
  await ann.keyboard.press('Escape');
  await expect(menu).toBeHidden();
});

test('raised hands and reactions reach everyone; the host lowers a hand', async ({ browser, server }) => {
  const people: Page[] = [];
  for (const name of ['Ann', 'Ben', 'Cat']) {
    const { page } = await probedPage(browser, { width: 1280, height: 800 });
    await joinCall(page, server.url, name, 'hands');
    people.push(page);
  }
  const [ann, ben, cat] = people;
  await expect(tiles(ann)).toHaveCount(3);
  const raisedOn = (page: Page, who: string) => tileOf(page, who).getByRole('img', { name: 'hand raised' });

  // Ben raises his hand from the keyboard (H), then Cat from the bar.
  await ben.locator('body').press('h');
  await expect(controlBar(ben).getByRole('button', { name: 'Lower hand' })).toHaveAttribute('aria-pressed', 'true');
  await controlBar(cat).getByRole('button', { name: 'Raise hand' }).click();
  for (const page of people) {
    await expect(raisedOn(page, 'Ben')).toBeVisible();
    await expect(raisedOn(page, 'Cat')).toBeVisible();
    await expect(raisedOn(page, 'Ann')).toHaveCount(0);
    // People lists raised hands first, in the order they went up.
    await expect(memberNames(page)).toHaveText(['Ben', 'Cat', 'Ann']);
  }
  await ann.screenshot({ path: 'screenshots/call-hands.png' });

  // Only the host has a button to lower someone else's hand.
  await expect(cat.getByRole('button', { name: "Lower Ben's hand" })).toHaveCount(0);
  await ann.getByRole('button', { name: "Lower Ben's hand" }).click();
  for (const page of people) await expect(raisedOn(page, 'Ben')).toHaveCount(0);
  await expect(controlBar(ben).getByRole('button', { name: 'Raise hand' })).toHaveAttribute('aria-pressed', 'false');
  await expect(memberNames(ann)).toHaveText(['Cat', 'Ann', 'Ben']);
  // Cat lowers her own.
  await controlBar(cat).getByRole('button', { name: 'Lower hand' }).click();
  await expect(raisedOn(ann, 'Cat')).toHaveCount(0);

  // A reaction floats over the sender's tile for everyone, then goes.
  await controlBar(ben).getByRole('button', { name: 'Send a reaction' }).click();
  await ben.getByRole('group', { name: 'Reactions' }).getByRole('button', { name: 'applause' }).click();
  for (const page of people) await expect(tileOf(page, 'Ben').getByTestId('reaction')).toHaveText(['👏']);
  await expect(tileOf(ann, 'Cat').getByTestId('reaction')).toHaveCount(0);
  await ann.screenshot({ path: 'screenshots/call-reaction.png' });
  await expect(tileOf(ann, 'Ben').getByTestId('reaction')).toHaveCSS('opacity', '0', { timeout: 8_000 });

  // A flood is cut off by the server, which says why.
  // Ten clicks in one go (one task, well inside one 3 s window): six pass.
  const heart = ben.getByRole('group', { name: 'Reactions' }).getByRole('button', { name: 'heart' });
  await heart.evaluate((button: HTMLElement) => {
    for (let i = 0; i < 10; i++) button.click();
  });
  await expect(ben.getByTestId('problem')).toContainText('a lot of reactions');
  // A chat line after the flood reaches Cat after everything the flood
  // let through: then the count is final.
  await sendChat(ben, 'after the hearts');
  await expect(chatLog(cat)).toContainText('after the hearts');
  const hearts = tileOf(cat, 'Ben').getByTestId('reaction').filter({ hasText: '❤️' });
  expect(await hearts.count()).toBe(6);
});

test('pin someone large for yourself alone', async ({ browser, server }) => {
  const { ann, ben } = await call(browser, server, 'pins', { width: 1280, height: 800 });
  await tileOf(ann, 'Ben').hover();
  await ann.getByRole('button', { name: 'Pin Ben' }).click();
  await expect(tileOf(ann, 'Ben')).toHaveClass(/featured/);
  await expect(ann.locator('section.stage')).toHaveClass(/focus/);
  await expect(tileOf(ann, 'Ann')).not.toHaveClass(/featured/);
  await expect(ben.locator('.tile.featured')).toHaveCount(0);
  await ann.screenshot({ path: 'screenshots/call-pinned.png' });
  await ann.getByRole('button', { name: 'Unpin Ben' }).click();
  await expect(ann.locator('.tile.featured')).toHaveCount(0);
});

test('sounds for arrivals, departures and raised hands, with a switch that is remembered', async ({ browser, server }) => {
  const { context, page: ann } = await probedPage(browser, { width: 1280, height: 800 });
  // Counts the notes the page synthesises (each sound is one oscillator a note).
  await context.addInitScript(() => {
    const w = window as any;
    w.__notes = 0;
    const create = AudioContext.prototype.createOscillator;
    AudioContext.prototype.createOscillator = function () {
      w.__notes++;
      return create.call(this);
    };
  });
  const notes = () => ann.evaluate(() => (window as any).__notes as number);
  await joinCall(ann, server.url, 'Ann', 'sounds');
  const ben = (await probedPage(browser, { width: 1280, height: 800 })).page;
  await joinCall(ben, server.url, 'Ben', 'sounds');
  await expect(tiles(ann)).toHaveCount(2);
  await expect.poll(notes, { message: 'a join sounds two rising notes' }).toBe(2);

  // Sounds off (remembered): Cat's arrival and Ben's hand are silent.
  const sounds = (await openMoreOptions(ann)).getByRole('switch', { name: 'Sounds' });
  await sounds.click();
  await expect(sounds).toHaveAttribute('aria-checked', 'false');
  expect(await ann.evaluate(() => localStorage.getItem('noom.sounds'))).toBe('off');
  const cat = (await probedPage(browser, { width: 1280, height: 800 })).page;
  await joinCall(cat, server.url, 'Cat', 'sounds');
  await expect(tiles(ann)).toHaveCount(3);
  await controlBar(ben).getByRole('button', { name: 'Raise hand' }).click();
  await expect(tileOf(ann, 'Ben').getByRole('img', { name: 'hand raised' })).toBeVisible();
  expect(await notes()).toBe(2);

  // On again: a raised hand pings once, a departure sounds two notes.
  await sounds.click();
  await expect(sounds).toHaveAttribute('aria-checked', 'true');
  await controlBar(ben).getByRole('button', { name: 'Lower hand' }).click();
  await expect(tileOf(ann, 'Ben').getByRole('img', { name: 'hand raised' })).toHaveCount(0);
  await controlBar(ben).getByRole('button', { name: 'Raise hand' }).click();
  await expect.poll(notes).toBe(3);
  await cat.context().close();
  await expect(tiles(ann)).toHaveCount(2);
  await expect.poll(notes).toBe(5);
});

test('your own video minimises to a corner and the others fill the stage', async ({ browser, server }) => {
  const { ann } = await call(browser, server, 'self-view', { width: 1280, height: 800 });
  const width = (name: string) => tileOf(ann, name).evaluate((t) => t.getBoundingClientRect().width);
  const benBefore = await width('Ben');
  await tileOf(ann, 'Ann').hover();
  await ann.getByRole('button', { name: 'Minimise your video' }).click();
  await expect(tileOf(ann, 'Ann')).toHaveClass(/floating/);
  await expect.poll(() => width('Ann')).toBeLessThan(250);
  await expect.poll(() => width('Ben')).toBeGreaterThan(benBefore + 100);
  // Still on screen, inside the stage, over its corner.
  await expect(tileOf(ann, 'Ann')).toBeInViewport({ ratio: 1 });
  await ann.screenshot({ path: 'screenshots/call-self-minimised.png' });
  // Back from the keyboard (the button shows on focus).
  await ann.getByRole('button', { name: 'Put your video back in the grid' }).focus();
  await ann.keyboard.press('Enter');
  await expect.poll(() => width('Ann')).toBeGreaterThan(250);
});
