// Browser tests of notifications (live), bookmarks, search with filters, profiles and
// settings, against the real server and database, with axe on every page.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {setup, signedInPage, noAxe, PASSWORD} from './harness.mjs';

let server;
let browser;
let admin;
setup((env) => ({server, browser, admin} = env));

test('a reply arrives as a notification without a reload, and is marked read', async () => {
  const a = await admin.register({name: 'Dr Ada Notes'});
  const b = await admin.register({name: 'Dr Ben Replies'});
  const th = await a.newThread('Pregabalin in renal impairment', 'What dose would you use?');
  const page = await signedInPage(browser, server, a.email);
  await page.goto('/#/notifications');
  await page.getByRole('heading', {name: 'Notifications'}).waitFor();
  await page.getByText('Nothing new.').waitFor();
  await page.waitForTimeout(300);
  await b.call('POST', `/threads/${th.thread.id}/posts`, {body: 'Halve it below 60 mL/min.'}, 201);
  // the author watches their own thread: the reply is a "watched" notification
  const row = page.locator('.note.unread', {hasText: 'Dr Ben Replies posted in “Pregabalin in renal impairment”'});
  await row.waitFor({timeout: 10000});
  // the count in the navigation went up, and it was said aloud
  await page.locator('#unread-badge').waitFor();
  assert.match(await page.locator('#unread-badge').textContent(), /1/);
  await page.waitForFunction(() => document.getElementById('announce').textContent.includes('new notification'));
  await noAxe(page, 'notifications');
  await page.getByRole('button', {name: 'Mark all as read'}).click();
  await page.waitForFunction(() => !document.querySelector('.note.unread'));
  assert.equal((await a.call('GET', '/me')).body.unread_notifications, 0);
  assert.equal(await page.locator('#unread-badge').count(), 0);
  // the notification leads to the post
  await page.locator('.note a').first().click();
  await page.getByRole('heading', {name: 'Pregabalin in renal impairment'}).waitFor();
  assert.deepEqual(page.problems, []);
});

test('bookmarks list the saved posts and can be removed', async () => {
  const a = await admin.register({name: 'Dr Keep Marks'});
  const th = await a.newThread('Naloxone kits in rural clinics', 'Where do you stock them?');
  await a.call('PUT', `/posts/${th.post.id}/bookmark`, undefined);
  const page = await signedInPage(browser, server, a.email);
  await page.goto('/#/bookmarks');
  await page.getByRole('link', {name: 'Naloxone kits in rural clinics'}).waitFor();
  await noAxe(page, 'bookmarks');
  await page.getByRole('button', {name: 'Remove bookmark'}).click();
  await page.waitForFunction(() => !document.querySelector('.bookmark-row'));
  assert.equal((await a.call('GET', '/me/bookmarks')).body.items.length, 0);
});

test('search finds posts in both languages, with marks, filters and clear errors', async () => {
  const a = await admin.register({name: 'Dr Search Sage'});
  const word = `zq${Date.now().toString(36)}`;
  await a.newThread(`Tapering plan ${word}`, `We are tapering slowly. ${word}`);
  await a.newThread(`Douleurs à l'épaule ${word}`, `Les médicaments aident peu. ${word}`, {category: 'mental-health'});
  const page = await signedInPage(browser, server, a.email);
  await page.getByRole('link', {name: 'Search', exact: true}).click();
  await page.getByLabel('Search for').fill(`taper ${word}`);
  await page.getByRole('button', {name: 'Search', exact: true}).click();
  await page.getByRole('heading', {name: 'Results'}).waitFor();
  assert.equal(await page.locator('.hit').count(), 1);
  assert.ok(await page.locator('.hit .snippet mark').count() >= 1);
  await noAxe(page, 'search results');
  // French stemming and accents: "medicament" finds "médicaments"
  await page.getByLabel('Search for').fill(`medicament ${word}`);
  await page.getByRole('button', {name: 'Search', exact: true}).click();
  await page.locator('.hit', {hasText: 'épaule'}).waitFor();
  // a category filter leaves the other thread out
  await page.getByLabel('Search for').fill(word);
  await page.locator('summary').click();
  await page.getByLabel('Category').selectOption('mental-health');
  await page.getByRole('button', {name: 'Search', exact: true}).click();
  await page.waitForFunction(() => location.hash.includes('category=mental-health'));
  await page.locator('.hit', {hasText: 'épaule'}).waitFor();
  assert.equal(await page.locator('.hit').count(), 1);
  // dates the wrong way round are the server's 400, shown by its code
  await page.goto(`/#/search?q=${word}&from=2026-13-40`);
  await page.getByRole('alert').filter({hasText: 'not understood'}).waitFor();
});

test('a profile, and settings: name, language, email, a refused password, sessions', async () => {
  const a = await admin.register({name: 'Dr Set Tings'});
  const page = await signedInPage(browser, server, a.email);
  await page.goto(`/#/users/${a.user.id}`);
  await page.getByRole('heading', {name: 'Dr Set Tings'}).waitFor();
  await noAxe(page, 'profile');
  await page.getByRole('link', {name: 'Edit my profile and settings'}).click();
  await page.getByRole('heading', {name: 'Profile and settings'}).waitFor();
  await noAxe(page, 'settings');
  await page.getByLabel('Name shown to others').fill('Dr Set Tings-Roy');
  await page.getByLabel('Email notifications').selectOption('daily');
  await page.getByRole('button', {name: 'Save', exact: true}).click();
  await page.waitForFunction(() => document.getElementById('announce').textContent.includes('saved'));
  const me = (await a.call('GET', '/me')).body;
  assert.equal(me.display_name, 'Dr Set Tings-Roy');
  assert.equal(me.email_notifications, 'daily');
  await page.locator('#account a', {hasText: 'Dr Set Tings-Roy'}).waitFor();
  // a wrong current password: the field's error, and the password is unchanged
  await page.getByLabel('Current password').fill('not my password!!');
  await page.getByLabel(/^New password/).fill('a brand new passphrase 9');
  await page.getByRole('button', {name: 'Change password'}).click();
  await page.locator('[data-field="current_password"] .field-error').filter({hasText: 'Incorrect.'}).waitFor();
  assert.equal((await server.request('POST', '/sessions', {body: {email: a.email, password: PASSWORD}})).status, 201);
  // this browser's session is listed as this one
  await page.getByText('this browser').waitFor();
  // switching the language in settings redraws the page in French
  await page.getByLabel('Language').selectOption('fr');
  await page.getByRole('button', {name: 'Save', exact: true}).click();
  await page.getByRole('heading', {name: 'Profil et réglages'}).waitFor();
  assert.deepEqual(page.problems, []);
});
