import { Page } from '@playwright/test';
import { expect, test } from './support/fixtures';
import { enterRoomFromLobby, waitHydratedAndConnected } from './support/pages';


/** Every uncaught error of the page, and whether the crash notice showed. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`${e.name}: ${e.message}`));
  return errors;
}

async function expectAlive(page: Page, errors: string[]) {
  await waitHydratedAndConnected(page);
  await expect(page.getByTestId('crash')).toHaveCount(0);
  expect(errors).toEqual([]);
}

test('a room link with a NUL byte does not kill the app', async ({ page, server }) => {
  const errors = watchErrors(page);
  await page.goto(`${server.url}/r/%00`);
  await expect(page.getByRole('heading', { name: "That isn't a room name" })).toBeVisible();
  await expectAlive(page, errors);
  await page.getByRole('link', { name: 'Back to the lobby' }).click();
  await expect(page).toHaveURL(`${server.url}/`);
  await expectAlive(page, errors);
  // The lobby is alive: it takes a room.
  await enterRoomFromLobby(page, server.url, 'Ada', 'after-nul');
  expect(errors).toEqual([]);
});

test('room paths of every odd kind open a page that works', async ({ page, server }) => {
  const errors = watchErrors(page);
  const paths = [
    ...[0x01, 0x08, 0x09, 0x0a, 0x0d, 0x1b, 0x1f, 0x7f].map((b) => `%${b.toString(16).padStart(2, '0')}`),
    '%C2%80', // a C1 control
    '%E2%80%AE', // right-to-left override
    '%E2%80%8B', // zero-width space
    '%EF%BB%BF', // byte-order mark
    '%FF%FE', // not UTF-8
    '%', '%%', '%2', '%zz',
    '%2e', '%2e%2e', '%2E%2E%2F..',
    'a%00b%00c',
    encodeURIComponent('שלום-עולם'),
    encodeURIComponent('😀🎉'),
    encodeURIComponent('ｆｕｌｌｗｉｄｔｈ'),
    'x'.repeat(10_000),
    encodeURIComponent('<script>alert(1)</script>'),
  ];
  for (const path of paths) {
    await page.goto(`${server.url}/r/${path}`);
    await expectAlive(page, errors);
    // The pre-join screen of a valid room, the explanation, or (for a path
    // the browser resolves elsewhere, like `%2e%2e`) the lobby or "not found".
    await expect(
      page
        .getByRole('heading', { name: "That isn't a room name" })
        .or(page.getByLabel('Your name'))
        .or(page.getByRole('heading', { name: 'Nothing here' })),
    ).toBeVisible();
  }
});

test('odd nicknames are checked in the page and never break it', async ({ page, server }) => {
  const errors = watchErrors(page);
  await page.goto(`${server.url}/`);
  await waitHydratedAndConnected(page);
  const refused = ['\u200b\u200b', '\u202e', 'Ada\u202enimda', '\u3164', '\u0000', ' \t '];
  for (const nickname of refused) {
    await page.getByLabel('Your name').fill(nickname);
    await page.getByLabel('Room name').fill('odd-names');
    await page.getByRole('button', { name: 'Create or join room' }).click();
    await expect(page.locator('.form-error')).not.toBeEmpty();
    await expect(page).toHaveURL(`${server.url}/`);
  }
  const accepted = ['שרה', '👩\u200d💻 Lin', 'Zoe\u0308', 'x'.repeat(32), '<b>Eve</b>'];
  for (const nickname of accepted) {
    await page.goto(`${server.url}/`);
    await waitHydratedAndConnected(page);
    await page.getByLabel('Your name').fill(nickname);
    await page.getByLabel('Room name').fill('odd-names');
    await page.getByRole('button', { name: 'Create or join room' }).click();
    await expect(page).toHaveURL(`${server.url}/r/odd-names`);
    await expectAlive(page, errors);
  }
  // 10,000 characters are cut at the field's limit, not sent whole.
  await page.goto(`${server.url}/`);
  await waitHydratedAndConnected(page);
  await page.getByLabel('Your name').fill('n'.repeat(10_000));
  expect((await page.getByLabel('Your name').inputValue()).length).toBe(32);
  await expectAlive(page, errors);
});

test('a trap in WebAssembly shows "Something went wrong" with a reload', async ({ page, server }) => {
  await page.goto(`${server.url}/r/trap-room`);
  await expect(page.getByLabel('Your name')).toBeVisible();
  await waitHydratedAndConnected(page);
  // A real trap: a tiny module whose only function is `unreachable`, the
  // instruction a release build of the app executes on a panic.
  await page.evaluate(() => {
    const bytes = new Uint8Array([
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01,
      0x00, 0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00, 0x0a, 0x05, 0x01, 0x03, 0x00, 0x00, 0x0b,
    ]);
    const trap = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.f as () => void;
    setTimeout(trap);
  });
  const notice = page.getByRole('alertdialog', { name: 'Something went wrong' });
  await expect(notice).toBeVisible();
  const reload = notice.getByRole('button', { name: 'Reload' });
  await expect(reload).toBeFocused();
  await page.screenshot({ path: 'screenshots/crash-notice.png' });
  await reload.click();
  await expect(notice).toHaveCount(0);
  await waitHydratedAndConnected(page);
  await expect(page.getByLabel('Your name')).toBeVisible();

  // The same from a failed promise (a future on the wasm side).
  await page.evaluate(() => {
    void Promise.reject(new WebAssembly.RuntimeError('unreachable'));
  });
  await expect(notice).toBeVisible();
});
