// The French client on a server of its own, whose every text is French: no page may
// show a string of the English table (members' content from other tests would blur the
// check, so this file has its own database).
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {setup, Member, newPage, signInPage} from './harness.mjs';
import {strings} from '../../web/js/strings.js';

let server;
let browser;
let admin;
setup((env) => ({server, browser, admin} = env));

test('in French, no page shows a string of the English table', async () => {
  const a = await Member.signIn(server, admin.email);
  const m = await admin.register({name: 'Dr Traduction Tremblay', locale: 'fr'});
  const th = await m.newThread('Fil de vérification', 'Texte en français seulement.');
  const g = (await a.call('POST', '/groups', {network: 'BC', name: 'Groupe de vérification', max_mentees: 4}, 201)).body;
  await a.call('PUT', `/groups/${g.id}/members/${m.user.id}`, {role: 'mentee'}, 200);
  await a.call('PATCH', '/me', {locale: 'fr'}, 200);
  // English strings that differ from their French, in pieces long enough to mean something
  const english = [];
  for (const [k, en] of Object.entries(strings.en)) {
    if (en === strings.fr[k]) continue;
    for (const piece of en.split(/\{\w+\}/)) {
      const p = piece.trim().replace(/[.:]$/, '');
      if (p.length >= 6 && !Object.values(strings.fr).some((fr) => fr.includes(p))) english.push([k, p]);
    }
  }
  const page = await newPage(browser, server);
  page.on('dialog', (d) => d.dismiss());
  await signInPage(page, admin.email);
  const cats = (await a.call('GET', '/categories')).body.items;
  const pages = ['#/', `#/c/${cats[0].slug}`, `#/threads/${th.thread.id}`, '#/new', `#/new?group=${g.id}`,
    '#/groups', '#/groups/new', `#/groups/${g.id}`, '#/conversations', '#/conversations/new', '#/search?q=fil',
    '#/notifications', '#/bookmarks', `#/users/${m.user.id}`, '#/settings', '#/guidelines', '#/moderation',
    '#/moderation/log', '#/responses', '#/reports', '#/invite', '#/admin', '#/nulle-part'];
  for (const hash of pages) {
    await page.goto(`/${hash}`);
    await page.locator('main h1').waitFor();
    await page.waitForTimeout(150);
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'fr', hash);
    // machine text (<code>: action codes, before/after values) is not a translation
    const text = await page.evaluate(() => [(() => {
      const copy = document.body.cloneNode(true);
      copy.querySelectorAll('code').forEach((c) => c.remove());
      document.body.appendChild(copy);
      copy.style.position = 'absolute';
      const t = copy.innerText;
      copy.remove();
      return t;
    })(), document.title,
      ...[...document.querySelectorAll('[aria-label], [title], [placeholder], [alt]')].flatMap((e) =>
        ['aria-label', 'title', 'placeholder', 'alt'].map((a) => e.getAttribute(a) || ''))].join('\n'));
    const found = english.filter(([, p]) => text.includes(p));
    assert.deepEqual(found, [], `${hash} shows English`);
  }
  // the thread's composer, opened
  await page.goto(`/#/threads/${th.thread.id}`);
  await page.locator('textarea').fill('Appeler au 604-555-0199.');
  await page.locator('.privacy mark').waitFor();
  const text = await page.evaluate(() => document.body.innerText);
  assert.deepEqual(english.filter(([, p]) => text.includes(p)), [], 'privacy check in French');
  assert.deepEqual(page.problems, []);
});
