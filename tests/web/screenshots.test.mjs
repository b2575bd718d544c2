// The README's screenshots: the main pages in English and in French, over a small
// forum made through the API. CONFER_SCREENSHOTS=1 writes them to docs/screenshots/
// (otherwise to the temporary folder). Each page is checked to be in its language.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {setup, newPage, signedInPage, signInPage, screenshot} from './harness.mjs';

let server;
let browser;
let admin;
setup((env) => ({server, browser, admin} = env));

test('the main pages, in English and in French', async () => {
  const coord = await admin.register({name: 'Amélie Roy (coordination)', role: 'coordinator', profession: 'other'});
  const mentor = await admin.register({name: 'Dr Priya Nair', profession: 'psychiatrist'});
  const mentee = await admin.register({name: 'Dr Tom Gagnon', profession: 'family_physician'});
  const np = await admin.register({name: 'Jo Lavoie, NP', profession: 'nurse_practitioner'});
  const a = await mentee.newThread('Tapering oxycodone after 10 years: where to start?',
    'A 58-year-old on **60 mg** oxycodone a day for back pain asks to come down.\n\n- function is poor\n- sleep is broken\n\nHow fast would you go?', {kind: 'question', tags: ['opioids', 'tapering']});
  const r1 = await mentor.call('POST', `/threads/${a.thread.id}/posts`, {body: 'Slowly: **5–10% of the dose every 2–4 weeks**, and ask about mood at each step.'}, 201);
  await np.call('POST', `/threads/${a.thread.id}/posts`, {body: 'We pair it with physiotherapy; it helps people hold on.', reply_to: r1.body.id}, 201);
  await mentee.call('PUT', `/posts/${r1.body.id}/reactions/helpful`);
  await np.newThread('Gabapentinoids and sleep in older adults', 'Any rule of thumb for starting doses?');
  await mentor.newThread('Buprenorphine micro-induction: a worked example', 'Day 1: 0.5 mg once…', {category: 'substance-use'}).catch(() => {});
  const g = (await coord.call('POST', '/groups', {network: 'BC', name: 'Kootenay chronic pain circle', description: 'Monthly cases from rural practices.', max_mentees: 4}, 201)).body;
  await coord.call('PUT', `/groups/${g.id}/members/${mentor.user.id}`, {role: 'mentor'}, 200);
  await coord.call('PUT', `/groups/${g.id}/members/${mentee.user.id}`, {role: 'mentee'}, 200);
  await coord.call('PUT', `/groups/${g.id}/members/${np.user.id}`, {role: 'mentee'}, 200);
  const when = new Date(Date.now() + 9 * 86400000);
  when.setUTCHours(1, 0, 0, 0);
  await coord.call('POST', `/groups/${g.id}/meetings`, {starts_at: when.toISOString(), duration_minutes: 60, mode: 'video',
    where: 'https://meet.example.ca/kootenay', agenda: 'Two cases; a tapering plan to review.'}, 201);
  await mentee.call('POST', '/threads', {group_id: g.id, title: 'Knee pain at 74, opioid-naive', body: 'Would you start duloxetine?', kind: 'case'}, 201);

  for (const lang of ['en', 'fr']) {
    const page = await newPage(browser, server, {width: 1100, height: 820});
    const phone = await newPage(browser, server, {width: 360, height: 740});
    await signInPage(page, mentee.email);
    await signInPage(phone, mentee.email);
    await mentee.call('PATCH', '/me', {locale: lang}, 200);
    const shoot = async (p, hash, name, ready) => {
      await p.goto(`/${hash}`);
      await p.evaluate((l) => localStorage.setItem('confer.locale', l), lang);
      await p.reload();
      await p.locator('main h1').waitFor();
      if (ready) await ready(p);
      await p.waitForTimeout(200);
      assert.equal(await p.evaluate(() => document.documentElement.lang), lang, `${name} in ${lang}`);
      await screenshot(p, `${name}-${lang}`);
    };
    await shoot(page, '#/', 'forum');
    await shoot(page, `#/threads/${a.thread.id}?order=tree`, 'thread', (p) => p.locator('.post').nth(2).waitFor());
    await shoot(page, '#/new', 'composer', async (p) => {
      await p.locator('textarea').fill(lang === 'fr'
        ? 'Patiente vue le 3 mars; rappeler au 604-555-0199 si la douleur augmente.'
        : 'Seen on March 3; call her back at 604-555-0199 if the pain gets worse.');
      await p.locator('.privacy mark').waitFor();
      await p.locator('.privacy').scrollIntoViewIfNeeded();
    });
    await shoot(page, `#/groups/${g.id}`, 'group');
    await shoot(page, '#/search?q=tapering', 'search', (p) => p.locator('.hit').first().waitFor());
    await shoot(phone, `#/threads/${a.thread.id}`, 'phone-thread', (p) => p.locator('.post').first().waitFor());
    const cpage = await signedInPage(browser, server, coord.email, {width: 1100, height: 900});
    await coord.call('PATCH', '/me', {locale: lang}, 200);
    await shoot(cpage, '#/reports', 'reports', (p) => p.locator('figure svg').first().waitFor());
    await cpage.context().close();
    await page.context().close();
    await phone.context().close();
  }
});
