// Browser tests of the web client's account and forum flows, end to end against the
// real server and database: sign-up with an invitation, guidelines, sign-in, categories
// and thread lists, reading a thread in both orders, replying and starting threads with
// the preview and the privacy check, editing with a conflict, reactions, bookmarks, the
// subscription, live posts, the language switch, a phone-width screen, axe on each page.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {setup, Member, newPage, signedInPage, signInPage, noAxe, uniqueEmail, PASSWORD, tabTo} from './harness.mjs';
import {strings} from '../../web/js/strings.js';

let server;
let browser;
let admin;
setup((env) => ({server, browser, admin} = env));

test('English and French have the same strings', () => {
  const en = Object.keys(strings.en).sort();
  const fr = Object.keys(strings.fr).sort();
  assert.deepEqual(fr, en);
  for (const k of en) assert.ok(strings.fr[k].trim(), `empty French string ${k}`);
});

test('sign-up with an invitation, then the guidelines, then the forum', async () => {
  const email = uniqueEmail('newcomer');
  const code = await admin.invite(email);
  const page = await newPage(browser, server);
  await page.goto(`/#/signup?code=${code}`);
  await page.getByRole('heading', {name: 'Join confer'}).waitFor();
  assert.equal(await page.getByLabel('Invitation code').inputValue(), code);
  await noAxe(page, 'sign-up');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Name shown to others').fill('Dr Nadia Okafor');
  await page.getByLabel('Profession').selectOption('nurse_practitioner');
  // a weak password is refused with the field's own message, and nothing is created
  await page.getByLabel(/^Password/).fill('short');
  await page.getByRole('button', {name: 'Create my account'}).click();
  await page.getByRole('alert').filter({hasText: 'Some fields need attention.'}).waitFor();
  assert.equal(await page.getByLabel(/^Password/).getAttribute('aria-invalid'), 'true');
  await page.getByLabel(/^Password/).fill(PASSWORD);
  await page.getByRole('button', {name: 'Create my account'}).click();
  await page.getByRole('heading', {name: 'Community guidelines'}).waitFor();
  // the guidelines are rendered Markdown: a heading and lists from the server
  assert.ok(await page.locator('.guidelines h2').count() > 0);
  await noAxe(page, 'guidelines');
  await page.getByRole('button', {name: 'I accept the guidelines'}).click();
  await page.getByRole('heading', {name: 'National forum'}).waitFor();
  assert.ok(await page.locator('.cards .card').count() >= 1);
  await noAxe(page, 'forum home');
  // the account exists and has accepted
  const me = await Member.signIn(server, email);
  const profile = (await me.call('GET', '/me', undefined, 200)).body;
  assert.equal(profile.guidelines_accepted, true);
  assert.equal(profile.profession, 'nurse_practitioner');
  assert.deepEqual(page.problems, []);
});

test('a wrong password shows the translated error and no session', async () => {
  const m = await admin.register({name: 'Dr Sam Tremblay'});
  const page = await newPage(browser, server);
  await page.goto('/#/signin');
  await noAxe(page, 'sign-in');
  await page.getByLabel('Email').fill(m.email);
  await page.getByLabel('Password').fill('not the password at all');
  await page.getByRole('button', {name: 'Sign in', exact: true}).click();
  await page.getByRole('alert').filter({hasText: 'That email and password do not match an account.'}).waitFor();
  assert.match(await page.evaluate(() => location.hash), /^#\/signin/);
  await signInPage(page, m.email);
  await page.getByRole('heading', {name: 'National forum'}).waitFor();
  // a reload keeps the session (the cookie) and can still write (csrf from /sessions/current)
  await page.reload();
  await page.getByRole('heading', {name: 'National forum'}).waitFor();
  await page.getByRole('button', {name: 'Sign out'}).click();
  await page.getByRole('heading', {name: 'Sign in'}).waitFor();
  await page.goto('/#/');
  await page.getByRole('heading', {name: 'Sign in'}).waitFor();
});

test('starting a thread: preview, a privacy warning marked in the text, acknowledged', async () => {
  const m = await admin.register({name: 'Dr Lee Wong'});
  const page = await signedInPage(browser, server, m.email);
  await page.getByRole('link', {name: 'New thread'}).first().click();
  await page.getByRole('heading', {name: 'Start a thread'}).waitFor();
  await page.getByLabel(/^Category/).selectOption({index: 1});
  await page.getByLabel(/^Title/).fill('Tapering hydromorphone in a frail patient');
  const body = page.getByLabel(/^Your post/);
  await body.fill('**Plan**: taper by 10% weekly. Call her at 604-555-0199 if worse.');
  // the live check marks the phone number in the text and asks for an acknowledgement
  const mark = page.locator('.privacy mark.finding.warn');
  await mark.waitFor();
  assert.equal(await mark.textContent(), '604-555-0199');
  const ack = page.getByLabel('I have checked: what is marked does not identify a patient.');
  await ack.waitFor();
  await noAxe(page, 'composer with a finding');
  // the preview is the server's rendering
  await page.getByRole('tab', {name: 'Preview'}).click();
  await page.locator('.preview strong', {hasText: 'Plan'}).waitFor();
  await page.getByRole('tab', {name: 'Write'}).click();
  // sending without the acknowledgement is refused, and nothing is created
  await page.getByRole('button', {name: 'Post the thread'}).click();
  await page.getByRole('alert').filter({hasText: 'may identify a patient'}).waitFor();
  const before = (await m.call('GET', '/threads?author=' + m.user.id)).body.items.length;
  assert.equal(before, 0);
  await ack.check();
  await page.getByRole('button', {name: 'Post the thread'}).click();
  await page.getByRole('heading', {name: 'Tapering hydromorphone in a frail patient'}).waitFor();
  assert.equal(await page.locator('.post .post-body strong').first().textContent(), 'Plan');
  const mine = (await m.call('GET', '/threads?author=' + m.user.id)).body.items;
  assert.equal(mine.length, 1);
  const t = (await m.call('GET', `/threads/${mine[0].id}`)).body;
  assert.equal(t.posts[0].privacy_acknowledged, true);
});

test('a health card number blocks the post until it is removed', async () => {
  const m = await admin.register({name: 'Dr Ana Silva'});
  const th = await m.newThread('Gabapentin and sleep');
  const page = await signedInPage(browser, server, m.email);
  await page.goto(`/#/threads/${th.thread.id}`);
  await page.getByRole('heading', {name: 'Gabapentin and sleep'}).waitFor();
  const box = page.getByLabel(/^Your reply/);
  await box.fill('Her PHN is 9123 456 782, on gabapentin 300 mg.');
  await page.locator('.privacy mark.finding.block').waitFor();
  await page.getByRole('button', {name: 'Send reply'}).click();
  await page.getByRole('alert').filter({hasText: 'contains a patient identifier'}).waitFor();
  assert.equal((await m.call('GET', `/threads/${th.thread.id}`)).body.posts.length, 1);
  await box.fill('On gabapentin 300 mg at night; sleep is better.');
  await page.locator('.privacy .ok').waitFor();
  await page.getByRole('button', {name: 'Send reply'}).click();
  await page.locator('.post', {hasText: 'sleep is better'}).waitFor();
  assert.equal((await m.call('GET', `/threads/${th.thread.id}`)).body.posts.length, 2);
});

test('reading a thread: live posts, replies as a tree, reactions, bookmarks, subscription', async () => {
  const a = await admin.register({name: 'Dr Mentor Ames'});
  const b = await admin.register({name: 'Dr Mentee Bell'});
  const th = await a.newThread('Low back pain and sleep');
  const page = await signedInPage(browser, server, b.email);
  await page.goto(`/#/threads/${th.thread.id}`);
  await page.getByRole('heading', {name: 'Low back pain and sleep'}).waitFor();
  await page.waitForTimeout(300); // the stream is open
  // a post made elsewhere arrives without a reload, and is announced
  const r = await a.call('POST', `/threads/${th.thread.id}/posts`, {body: 'Has she tried CBT-I?'}, 201);
  await page.locator('.post', {hasText: 'Has she tried CBT-I?'}).waitFor({timeout: 10000});
  await page.waitForFunction(() => document.getElementById('announce').textContent.includes('Dr Mentor Ames'));
  // reply to that post from the keyboard: its Reply button, then the composer
  await page.locator(`#post-${r.body.id} button`, {hasText: 'Reply'}).focus();
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.tagName), 'TEXTAREA');
  await page.keyboard.type('Not yet: I will refer her.');
  await page.getByRole('button', {name: 'Send reply'}).click();
  await page.locator('.post', {hasText: 'I will refer her'}).waitFor();
  const posts = (await b.call('GET', `/threads/${th.thread.id}?order=tree`)).body.posts;
  const mine = posts.find((p) => p.body.includes('refer her'));
  assert.equal(mine.reply_to, r.body.id);
  // as a tree the reply sits under its parent, one level in
  const parent = posts.find((p) => p.id === r.body.id);
  assert.equal(mine.depth, parent.depth + 1);
  await page.getByRole('link', {name: 'As replies'}).click();
  await page.locator(`.posts.tree #post-${mine.id}.depth-${mine.depth}`).waitFor();
  assert.ok(await page.evaluate(([a, b]) => {
    const x = document.getElementById(`post-${a}`).getBoundingClientRect().left;
    const y = document.getElementById(`post-${b}`).getBoundingClientRect().left;
    return y > x;
  }, [r.body.id, mine.id]), 'the reply is indented under its parent');
  await noAxe(page, 'thread as a tree');
  // a reaction and a bookmark, pressed and saved
  const helpful = page.locator(`#post-${r.body.id} .reaction[data-name="helpful"]`);
  await helpful.click();
  await page.locator(`#post-${r.body.id} .reaction[data-name="helpful"][aria-pressed="true"]`).waitFor();
  assert.equal((await b.call('GET', `/posts/${r.body.id}`)).body.reactions.helpful, 1);
  await page.locator(`#post-${r.body.id} .bookmark`).click();
  await page.locator(`#post-${r.body.id} .bookmark[aria-pressed="true"]`).waitFor();
  const marks = (await b.call('GET', '/me/bookmarks')).body.items;
  assert.ok(marks.some((x) => (x.post_id || (x.post && x.post.id) || x.id) === r.body.id), JSON.stringify(marks));
  // the subscription
  await page.getByLabel('Notify me').selectOption('watching');
  await page.waitForFunction(() => document.getElementById('announce').textContent.includes('saved'));
  const t2 = (await b.call('GET', `/threads/${th.thread.id}`)).body.thread;
  assert.equal(t2.subscription, 'watching');
  assert.deepEqual(page.problems, []);
});

test('editing a post that changed meanwhile shows the current version, then saves', async () => {
  const m = await admin.register({name: 'Dr Edit Evans'});
  const th = await m.newThread('Duloxetine dosing', 'Start at 30 mg.');
  const postId = th.post.id;
  const page = await signedInPage(browser, server, m.email);
  await page.goto(`/#/threads/${th.thread.id}`);
  await page.locator(`#post-${postId} button`, {hasText: 'Edit'}).click();
  const box = page.getByLabel(/^Edit your post/);
  await box.fill('Start at 30 mg for a week, then 60 mg.');
  // meanwhile the same post is edited elsewhere
  await m.call('PATCH', `/posts/${postId}`, {body: 'Start at 20 mg.', version: th.post.version}, 200);
  await page.getByRole('button', {name: 'Save'}).click();
  await page.locator('.conflict', {hasText: 'Start at 20 mg.'}).waitFor();
  assert.equal(await box.inputValue(), 'Start at 30 mg for a week, then 60 mg.');
  await page.getByRole('button', {name: 'Save'}).click();
  await page.locator(`#post-${postId} .post-body`, {hasText: 'then 60 mg'}).waitFor();
  const p = (await m.call('GET', `/posts/${postId}`)).body;
  assert.equal(p.version, th.post.version + 2);
});

test('the language switch changes every string, and the choice is kept', async () => {
  const m = await admin.register({name: 'Dr Claire Roy'});
  await m.newThread('Douleur chronique et sommeil');
  const page = await signedInPage(browser, server, m.email);
  await page.getByRole('heading', {name: 'National forum'}).waitFor();
  await page.getByRole('button', {name: 'Passer au français'}).click();
  await page.getByRole('heading', {name: 'Forum national'}).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'fr');
  // no English string of the table is left in the page's text
  const text = await page.evaluate(() => document.body.innerText);
  for (const k of ['forum.new_thread', 'forum.last_activity', 'shell.signout', 'shell.footer']) {
    assert.ok(!text.includes(strings.en[k]), `${k} still in English`);
    assert.ok(text.includes(strings.fr[k]), `${k} not in French`);
  }
  await noAxe(page, 'forum home in French');
  await page.getByRole('link', {name: 'Nouveau fil'}).first().click();
  await page.getByRole('heading', {name: 'Commencer un fil'}).waitFor();
  // saved to the account: a new sign-in comes back in French
  const me = (await m.call('GET', '/me')).body;
  assert.equal(me.locale, 'fr');
  const page2 = await signedInPage(browser, server, m.email);
  await page2.getByRole('heading', {name: 'Forum national'}).waitFor();
});

test('on a 360 px phone every page fits the width', async () => {
  const m = await admin.register({name: 'Dr Phone Patel'});
  const th = await m.newThread('A very long title to see how a phone shows it when it wraps over lines');
  const page = await signedInPage(browser, server, m.email, {width: 360, height: 740});
  for (const hash of ['#/', `#/threads/${th.thread.id}`, '#/new']) {
    await page.goto(`/${hash}`);
    await page.locator('main h1').waitFor();
    await page.waitForTimeout(100);
    const w = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(w <= 360, `${hash}: ${w} px wide`);
  }
  await page.goto(`/#/threads/${th.thread.id}`);
  await page.locator('main h1').waitFor();
});

test('text from members is shown as text, never as HTML', async () => {
  const m = await admin.register({name: '<img src=x onerror=alert(1)>'});
  const th = await m.newThread('Title <script>alert(1)</script> here', 'Body <img src=x onerror="window.pwned=1"> and *em*');
  const page = await newPage(browser, server);
  let dialogs = 0;
  page.on('dialog', (d) => {
    dialogs += 1;
    d.dismiss();
  });
  await signInPage(page, m.email);
  await page.goto(`/#/threads/${th.thread.id}`);
  await page.getByRole('heading', {name: 'Title <script>alert(1)</script> here'}).waitFor();
  assert.equal(await page.locator('main img').count(), 0);
  assert.equal(await page.locator('main script').count(), 0);
  assert.equal(await page.locator('.post-body em').count(), 1);
  assert.ok((await page.locator('.byline a').first().textContent()).includes('<img'));
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  assert.equal(dialogs, 0);
});

test('HTML is inserted only from the server\'s renderer, and no script is inline', async () => {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../web');
  const files = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, {withFileTypes: true})) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else files.push(path.join(d, e.name));
    }
  };
  walk(root);
  // the renderer's fields: post bodies, previews, guidelines, search marks
  const allowed = /trustedHtml\(\w+, (\w+\.)*(body_html|html|title_html|snippet)\)/;
  for (const f of files.filter((x) => x.endsWith('.js'))) {
    const src = fs.readFileSync(f, 'utf8');
    if (!f.endsWith('dom.js')) {
      assert.doesNotMatch(src, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/, f);
    }
    for (const line of src.split('\n').filter((l) => l.includes('trustedHtml(') && !l.includes('export function'))) {
      if (line.trim().startsWith('//')) continue;
      assert.match(line, allowed, `${f}: ${line.trim()}`);
    }
  }
  for (const f of files.filter((x) => x.endsWith('.html'))) {
    const src = fs.readFileSync(f, 'utf8');
    assert.doesNotMatch(src, /<script(?![^>]*\bsrc=)[^>]*>/, `${f}: inline script`);
    assert.doesNotMatch(src, /\son[a-z]+=/, `${f}: inline event handler`);
    assert.doesNotMatch(src, /\sstyle=/, `${f}: inline style`);
  }
  // and the page is served with the CSP that forbids them
  const r = await fetch(`${server.url}/`);
  assert.match(r.headers.get('content-security-policy'), /script-src 'self'(;|$)/);
});

test('keyboard only: sign in, open a category and a thread, reply; focus is always visible', async () => {
  const m = await admin.register({name: 'Dr Keys Kumar'});
  const th = await m.newThread('Keyboard thread about sleep hygiene');
  const page = await newPage(browser, server);
  await page.goto('/#/signin');
  await page.getByRole('heading', {name: 'Sign in'}).waitFor();
  // Tab from the top of the page: the skip link comes first, and takes focus to the page
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to content');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'main');
  assert.match(await page.evaluate(() => location.hash), /^#\/signin/);
  // the sign-in form: email focused, type, Tab, type, Enter
  await page.getByLabel('Email').focus();
  await page.keyboard.type(m.email);
  await page.keyboard.press('Tab');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', {name: 'National forum'}).waitFor();
  // Tab to the first category and open it
  await tabTo(page, () => document.activeElement.closest && !!document.activeElement.closest('.card') && document.activeElement.tagName === 'A');
  await page.keyboard.press('Enter');
  await page.locator('.threads').waitFor();
  await tabTo(page, () => document.activeElement.textContent === 'Keyboard thread about sleep hygiene');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', {name: 'Keyboard thread about sleep hygiene'}).waitFor();
  await tabTo(page, () => document.activeElement.tagName === 'TEXTAREA');
  await page.keyboard.type('Try a consistent wake time first.');
  await tabTo(page, () => document.activeElement.textContent === 'Send reply');
  await page.keyboard.press('Enter');
  await page.locator('.post', {hasText: 'consistent wake time'}).waitFor();
  assert.equal((await m.call('GET', `/threads/${th.thread.id}`)).body.posts.length, 2);
});

test('every page fits a 360 px phone and passes axe: categories, lists, groups, admin pages', async () => {
  const a = await Member.signIn(server, admin.email);
  const m = await admin.register({name: 'Dr Many Pages'});
  const th = await m.newThread('Pages thread');
  const g = (await a.call('POST', '/groups', {network: 'BC', name: 'Phone group', max_mentees: 4}, 201)).body;
  await a.call('PUT', `/groups/${g.id}/members/${m.user.id}`, {role: 'mentee'}, 200);
  const page = await signedInPage(browser, server, admin.email, {width: 360, height: 740});
  const cats = (await a.call('GET', '/categories')).body.items;
  const pages = ['#/', `#/c/${cats[0].slug}`, `#/threads/${th.thread.id}`, `#/threads/${th.thread.id}?order=tree`,
    '#/new', `#/new?group=${g.id}`, '#/groups', '#/groups/new', `#/groups/${g.id}`, '#/conversations',
    '#/conversations/new', '#/search?q=pages', '#/notifications', '#/bookmarks', `#/users/${m.user.id}`,
    '#/settings', '#/guidelines', '#/moderation', '#/moderation?status=resolved', '#/moderation/log',
    '#/responses', '#/reports', '#/invite', '#/admin', '#/no-such-page'];
  for (const hash of pages) {
    await page.goto(`/${hash}`);
    await page.locator('main h1').waitFor();
    await page.waitForTimeout(150);
    const w = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(w <= 360, `${hash}: ${w} px wide`);
    await noAxe(page, hash);
  }
  assert.deepEqual(page.problems, []);
});

test('links are judged by where they lead: a relative-looking link to another site opens apart', async () => {
  const m = await admin.register({name: 'Dr Link Lam'});
  const page = await signedInPage(browser, server, m.email);
  const out = await page.evaluate(async () => {
    const {trustedHtml} = await import('/js/dom.js');
    const div = document.createElement('div');
    trustedHtml(div, '<a href="/\\evil.example/x">a</a><a href="#/threads/1">b</a><a href="https://other.example/">c</a>'
      + '<a href="javascript:alert(1)">d</a>');
    return [...div.querySelectorAll('a')].map((a) => [a.getAttribute('href'), a.target, a.rel]);
  });
  assert.deepEqual(out, [
    ['/\\evil.example/x', '_blank', 'noopener noreferrer nofollow'],
    ['#/threads/1', '', ''],
    ['https://other.example/', '_blank', 'noopener noreferrer nofollow'],
    [null, '', ''],
  ]);
  // and the renderer no longer makes such a link at all
  const r = await m.call('POST', '/preview', {body: '[a](/\\evil.example/x) [b](/&#9;/evil.example/)'}, 200);
  assert.doesNotMatch(r.body.html, /href="\/\\/);
  assert.doesNotMatch(r.body.html, /href="\/\t/);
});

test('an acknowledgement covers only the findings it was given for', async () => {
  const m = await admin.register({name: 'Dr Ack Adams'});
  const th = await m.newThread('Acknowledgement thread');
  const page = await signedInPage(browser, server, m.email);
  await page.goto(`/#/threads/${th.thread.id}`);
  const box = page.getByLabel(/^Your reply/);
  await box.fill('Call at 604-555-0199.');
  const ack = page.getByLabel('I have checked: what is marked does not identify a patient.');
  await ack.check();
  // a second identifier appears: the box is unticked until the member looks again
  await box.fill('Call at 604-555-0199 or write to jane.doe@example.com.');
  await page.locator('.privacy mark.finding', {hasText: 'jane.doe@example.com'}).waitFor();
  assert.equal(await ack.isChecked(), false);
  // typed and sent at once, before the pause: the check runs first, and the post is refused
  await ack.check();
  await box.fill('Call at 604-555-0199 or write to jane.doe@example.com, born 1961-04-02.');
  await page.getByRole('button', {name: 'Send reply'}).click();
  await page.getByRole('alert').filter({hasText: 'may identify a patient'}).waitFor();
  assert.equal((await m.call('GET', `/threads/${th.thread.id}`)).body.posts.length, 1);
});

test('a tab whose session changed elsewhere recovers its csrf token and writes', async () => {
  const m = await admin.register({name: 'Dr Two Tabs'});
  const th = await m.newThread('Two tabs thread');
  const page = await signedInPage(browser, server, m.email);
  await page.goto(`/#/threads/${th.thread.id}`);
  await page.locator('.post').first().waitFor();
  // another tab of the same browser signs out and in again: a new session, a new token
  const other = await page.context().newPage();
  await other.goto('/#/');
  await other.getByRole('button', {name: 'Sign out'}).click();
  await other.getByRole('heading', {name: 'Sign in'}).waitFor();
  await signInPage(other, m.email);
  // the first tab still holds the old token; its write succeeds all the same
  await page.locator(`#post-${th.post.id} .bookmark`).click();
  await page.locator(`#post-${th.post.id} .bookmark[aria-pressed="true"]`).waitFor();
  assert.equal((await m.call('GET', '/me/bookmarks')).body.items.length, 1);
});

test('a mention in a post leads to the member\'s page in the client', async () => {
  const a = await admin.register({name: 'Dr Mention Maker'});
  const b = await admin.register({name: 'Dr Mentioned Person'});
  const th = await a.newThread('Mention thread', `Could @${b.user.handle} weigh in?`);
  const page = await signedInPage(browser, server, a.email);
  await page.goto(`/#/threads/${th.thread.id}`);
  const link = page.locator('.post-body a.mention');
  await link.waitFor();
  assert.equal(await link.getAttribute('href'), `#/users/${b.user.id}`);
  await link.click();
  await page.getByRole('heading', {name: 'Dr Mentioned Person'}).waitFor();
});
