// Browser tests of groups and meetings, conversations, flags and the moderation queue
// and log, suspensions, pending responses, reports with charts, invitations, and
// editing and locking a thread; against the real server and database, axe on each page.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {setup, Member, newPage, noAxe, pageFor as openAs, uniqueEmail, PASSWORD, tabTo} from './harness.mjs';

let server;
let browser;
let admin;
setup((env) => ({server, browser, admin} = env));

const pageFor = (member, opts) => openAs(browser, server, member, opts);

async function pick(page, label, name) {
  await page.getByLabel(label).fill(name);
  await page.getByRole('button', {name: `Add ${name}`}).click();
}

test('a coordinator makes a group, adds a mentor and a mentee, schedules a meeting', async () => {
  const coord = await admin.register({name: 'Coordinator Cole', role: 'coordinator'});
  const mentor = await admin.register({name: `Dr Mentor Mays ${Date.now() % 100000}`, profession: 'psychiatrist'});
  const mentee = await admin.register({name: `Dr Mentee Moss ${Date.now() % 100000}`});
  const page = await pageFor(coord);
  await page.getByRole('link', {name: 'Groups', exact: true}).click();
  await page.getByRole('link', {name: 'New group'}).click();
  await page.getByLabel(/^Name/).fill('Kootenay chronic pain circle');
  await page.getByLabel('Description').fill('Monthly cases from rural practices.');
  await page.getByRole('button', {name: 'New group'}).click();
  await page.getByRole('heading', {name: 'Kootenay chronic pain circle'}).waitFor();
  const groupId = Number((await page.evaluate(() => location.hash)).split('/')[2]);
  // members, found through the directory
  await page.getByLabel('Add as').selectOption('mentor');
  await pick(page, 'Find a member of the network', mentor.user.display_name);
  await page.locator('.members', {hasText: mentor.user.display_name}).waitFor();
  await page.getByLabel('Add as').selectOption('mentee');
  await pick(page, 'Find a member of the network', mentee.user.display_name);
  await page.locator('.members', {hasText: mentee.user.display_name}).waitFor();
  const g = (await coord.call('GET', `/groups/${groupId}`)).body;
  assert.deepEqual(g.members.map((m) => [m.user.id, m.role]).sort(),
    [[mentor.user.id, 'mentor'], [mentee.user.id, 'mentee']].sort());
  // a meeting next week
  await page.getByRole('button', {name: 'Schedule a meeting'}).click();
  const d = new Date(Date.now() + 7 * 86400000);
  const pad = (n) => String(n).padStart(2, '0');
  await page.getByLabel('Starts').fill(`${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T18:30`);
  await page.getByLabel('Length in minutes').fill('90');
  await page.getByLabel(/^How/).selectOption('video');
  await page.getByLabel(/^Where/).fill('https://meet.example.ca/kootenay');
  await page.getByLabel('Agenda').fill('Two cases; tapering review.');
  await page.getByRole('button', {name: 'Schedule a meeting'}).click();
  await page.locator('.meetings li', {hasText: '90 min'}).waitFor();
  const meetings = (await coord.call('GET', `/groups/${groupId}/meetings`)).body.items;
  assert.equal(meetings.length, 1);
  assert.equal(meetings[0].duration_minutes, 90);
  assert.equal(new Date(meetings[0].starts_at).getHours(), 18);
  await noAxe(page, 'group page (coordinator)');
  // the calendar file, as the mentee's browser gets it
  const mpage = await pageFor(mentee);
  await mpage.goto(`/#/groups/${groupId}`);
  await mpage.getByRole('heading', {name: 'Kootenay chronic pain circle'}).waitFor();
  const [download] = await Promise.all([mpage.waitForEvent('download'),
    mpage.getByRole('link', {name: 'Add the meetings to my calendar (.ics)'}).click()]);
  const fs = await import('node:fs');
  const ics = fs.readFileSync(await download.path(), 'utf8');
  assert.match(ics, /BEGIN:VEVENT/);
  assert.match(ics, /meet\.example\.ca\/kootenay/);
  await noAxe(mpage, 'group page (mentee)');
  // the mentee starts a thread in the group; the mentor sees it awaiting an answer
  await mpage.getByRole('link', {name: 'New thread'}).click();
  await mpage.getByLabel(/^Title/).fill('Knee pain, opioid-naive, 74');
  await mpage.getByLabel(/^Your post/).fill('Would you start duloxetine?');
  await mpage.getByRole('button', {name: 'Post the thread'}).click();
  await mpage.getByRole('heading', {name: 'Knee pain, opioid-naive, 74'}).waitFor();
  const tpage = await pageFor(mentor);
  await tpage.getByRole('link', {name: 'Pending responses'}).click();
  await tpage.locator('.response', {hasText: 'Knee pain, opioid-naive, 74'}).waitFor();
  assert.match(await tpage.locator('.response').first().textContent(), /Waiting/);
  await noAxe(tpage, 'pending responses');
  assert.deepEqual([...page.problems, ...mpage.problems, ...tpage.problems], []);
});

test('a conversation started from a profile, read by both and nobody else', async () => {
  const a = await admin.register({name: `Dr Converse Ames ${Date.now() % 100000}`});
  const b = await admin.register({name: `Dr Converse Bay ${Date.now() % 100000}`});
  const c = await admin.register({name: 'Dr Outsider Cho'});
  const page = await pageFor(a);
  await page.goto(`/#/users/${b.user.id}`);
  await page.getByRole('link', {name: 'Send a private message'}).click();
  await page.getByRole('heading', {name: 'New conversation'}).waitFor();
  await page.locator('.chosen', {hasText: b.user.display_name}).waitFor();
  await noAxe(page, 'new conversation');
  await page.getByLabel(/^Title/).fill('A question about a shared patient plan');
  await page.getByLabel(/^Your post/).fill('Could we talk about the buprenorphine induction?');
  await page.getByRole('button', {name: 'Start the conversation'}).click();
  await page.getByRole('heading', {name: 'A question about a shared patient plan'}).waitFor();
  await page.getByText(`Between ${[a.user.display_name, b.user.display_name].sort().join(', ')}`).or(
    page.getByText(/^Between /)).first().waitFor();
  const id = Number((await page.evaluate(() => location.hash)).split('/')[2].split('?')[0]);
  const bpage = await pageFor(b);
  await bpage.getByRole('link', {name: 'Conversations'}).click();
  await bpage.getByRole('link', {name: 'A question about a shared patient plan'}).waitFor();
  await noAxe(bpage, 'conversations');
  assert.equal((await c.call('GET', `/threads/${id}`)).status, 404);
});

test('a flag goes to the moderators, who hide the post; the log records it', async () => {
  const author = await admin.register({name: 'Dr Flagged Fox'});
  const reader = await admin.register({name: 'Dr Reader Reid'});
  const mod = await admin.register({name: 'Moderator Moe', role: 'moderator'});
  const cats = (await author.call('GET', '/categories')).body.items;
  const th = (await author.call('POST', '/threads', {category_id: cats[0].id, title: 'Cannabis for sleep',
    body: 'Everyone who disagrees is an idiot.', kind: 'discussion'}, 201)).body;
  const page = await pageFor(reader);
  await page.goto(`/#/threads/${th.thread.id}`);
  await page.locator(`#post-${th.post.id} button`, {hasText: 'Flag'}).click();
  await page.getByLabel('Reason').selectOption('disrespectful');
  await page.getByLabel('Note for the moderators').fill('Insulting colleagues.');
  await noAxe(page, 'flag form');
  await page.getByRole('button', {name: 'Send to the moderators'}).click();
  await page.waitForFunction(() => document.getElementById('announce').textContent.includes('moderators will review'));
  // the moderator's queue
  const mpage = await pageFor(mod);
  await mpage.getByRole('link', {name: 'Moderation'}).click();
  const item = mpage.locator('.queue-item', {hasText: 'Cannabis for sleep'});
  await item.waitFor();
  assert.match(await item.textContent(), /Disrespectful/);
  assert.match(await item.textContent(), /Insulting colleagues/);
  await noAxe(mpage, 'moderation queue');
  await item.getByLabel(/^Note/).fill('Please keep it respectful.');
  await item.getByRole('button', {name: 'Hide'}).click();
  await mpage.waitForFunction(() => !document.querySelector('.queue-item'));
  assert.equal((await author.call('GET', `/posts/${th.post.id}`)).body.state, 'hidden');
  // readers see the placeholder
  await page.goto(`/#/threads/${th.thread.id}`);
  await page.getByText('This post is hidden while moderators review it.').waitFor();
  // the log
  await mpage.getByRole('link', {name: 'Moderation log'}).click();
  await mpage.locator('table.log td', {hasText: 'Flags decided: hidden'}).first().waitFor();
  await noAxe(mpage, 'moderation log');
  // a suspension from the profile
  await mpage.goto(`/#/users/${author.user.id}`);
  await mpage.getByRole('heading', {name: 'Suspend this member'}).waitFor();
  const until = new Date(Date.now() + 3 * 86400000).toISOString().slice(0, 10);
  await mpage.getByLabel('Until').fill(until);
  await mpage.getByLabel(/^Reason/).fill('Repeated insults');
  await mpage.getByRole('button', {name: 'Suspend this member'}).click();
  await mpage.getByRole('heading', {name: /^Suspended until/}).waitFor();
  const u = (await mod.call('GET', `/users/${author.user.id}`)).body;
  assert.ok(u.suspended_until);
  assert.deepEqual([...page.problems, ...mpage.problems], []);
});

test('the author edits the thread; a moderator locks it and replies stop', async () => {
  const a = await admin.register({name: 'Dr Thread Tate'});
  const mod = await admin.register({name: 'Moderator Mia', role: 'moderator'});
  const cats = (await a.call('GET', '/categories')).body.items;
  const th = (await a.call('POST', '/threads', {category_id: cats[0].id, title: 'Methadone split dosing',
    body: 'When do you split?', kind: 'discussion'}, 201)).body;
  const page = await pageFor(a);
  await page.goto(`/#/threads/${th.thread.id}`);
  await page.getByRole('button', {name: 'Edit the thread'}).click();
  await page.getByLabel(/^Title/).fill('Methadone split dosing in pregnancy');
  await page.getByLabel(/^Tags/).fill('methadone pregnancy');
  await page.getByLabel(/^Kind of thread/).selectOption('question');
  await page.getByRole('button', {name: 'Save'}).click();
  await page.getByRole('heading', {name: 'Methadone split dosing in pregnancy'}).waitFor();
  const t1 = (await a.call('GET', `/threads/${th.thread.id}`)).body.thread;
  assert.deepEqual([t1.kind, t1.tags], ['question', ['methadone', 'pregnancy']]);
  const mpage = await pageFor(mod);
  await mpage.goto(`/#/threads/${th.thread.id}`);
  await mpage.getByRole('button', {name: 'Edit the thread'}).click();
  await mpage.getByLabel('Locked').check();
  await mpage.getByRole('button', {name: 'Save'}).click();
  await mpage.getByText('This thread is locked: it takes no more replies.').waitFor();
  assert.equal((await a.call('GET', `/threads/${th.thread.id}`)).body.thread.locked, true);
  // the author's open page learns it live, and offers no reply box
  await page.getByText('This thread is locked: it takes no more replies.').waitFor();
  assert.equal(await page.getByRole('button', {name: 'Send reply'}).count(), 0);
});

test('reports show charts and a CSV; an invitation link signs a colleague up', async () => {
  const coord = await admin.register({name: 'Coordinator Rae', role: 'coordinator'});
  const page = await pageFor(coord);
  await page.getByRole('link', {name: 'Reports'}).click();
  await page.getByRole('heading', {name: 'Reports'}).waitFor();
  await page.locator('figure svg[role="img"]').first().waitFor();
  assert.ok(await page.locator('figure svg[role="img"]').count() >= 3);
  assert.ok(await page.locator('svg rect.chart-bar').count() >= 1);
  await noAxe(page, 'reports');
  const [download] = await Promise.all([page.waitForEvent('download'),
    page.getByRole('button', {name: 'Download as CSV'}).click()]);
  const fs = await import('node:fs');
  assert.match(fs.readFileSync(await download.path(), 'utf8'), /^section,dimension,value/);
  // a period the wrong way round is the server's 400, by its code
  await page.goto('/#/reports?from=2026-10-01&to=2026-09-01');
  await page.getByRole('alert').waitFor();
  // an invitation
  await page.getByRole('link', {name: 'Invite'}).click();
  const email = uniqueEmail('invited');
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', {name: 'Send the invitation'}).click();
  const link = await page.locator('.invited code').textContent();
  assert.match(link, /#\/signup\?code=/);
  await noAxe(page, 'invite');
  const newcomer = await newPage(browser, server);
  await newcomer.goto(link);
  await newcomer.getByLabel('Email').fill(email);
  await newcomer.getByLabel('Name shown to others').fill('Dr Invited Ivy');
  await newcomer.getByLabel('Profession').selectOption('pharmacist');
  await newcomer.getByLabel(/^Password/).fill(PASSWORD);
  await newcomer.getByRole('button', {name: 'Create my account'}).click();
  await newcomer.getByRole('button', {name: 'I accept the guidelines'}).waitFor();
  assert.deepEqual(page.problems, []);
});

test('administration: a category in both languages, a webhook tested and its delivery seen', async () => {
  const http = await import('node:http');
  const received = [];
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      received.push({headers: req.headers, body});
      res.writeHead(200);
      res.end('ok');
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  try {
    const page = await pageFor(admin);
    await page.getByRole('link', {name: 'Administration'}).click();
    await page.getByRole('heading', {name: 'Administration', level: 1}).waitFor();
    await noAxe(page, 'administration');
    await page.locator('summary', {hasText: 'Add a category'}).click();
    const slug = `rural-${Date.now() % 100000}`;
    await page.getByLabel(/^Address \(slug\)/).fill(slug);
    await page.getByLabel(/^Name in English/).fill('Rural practice');
    await page.getByLabel(/^Name in French/).fill('Pratique rurale');
    await page.getByLabel('Description in English').fill('Care far from specialists.');
    await page.getByLabel('Description in French').fill('Soigner loin des spécialistes.');
    await page.getByRole('button', {name: 'Add a category'}).click();
    await page.locator('.site-list h3', {hasText: 'Rural practice'}).waitFor();
    const cat = (await admin.call('GET', `/categories/${slug}`)).body;
    assert.deepEqual(cat.name, {en: 'Rural practice', fr: 'Pratique rurale'});
    // a webhook to the local receiver, then a test delivery
    await page.locator('summary', {hasText: 'Add a webhook'}).click();
    const port = receiver.address().port;
    await page.getByLabel(/^Address \(URL\)/).fill(`http://127.0.0.1:${port}/hook`);
    await page.getByLabel(/^Signing secret/).fill('a secret of twenty chars');
    await page.getByRole('button', {name: 'Add a webhook'}).click();
    await page.locator('.site-list code', {hasText: `127.0.0.1:${port}/hook`}).waitFor();
    await page.getByRole('button', {name: 'Send a test'}).click();
    const deadline = Date.now() + 20000;
    while (!received.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.equal(received.length, 1);
    assert.equal(received[0].headers['x-confer-event'], 'ping');
    await page.getByRole('button', {name: 'Show deliveries'}).click();
    await page.locator('td', {hasText: 'Delivered'}).waitFor({timeout: 10000});
    await noAxe(page, 'administration with deliveries');
    assert.deepEqual(page.problems, []);
  } finally {
    receiver.close();
  }
});

test('more of a member\'s day: an accepted answer, history and redaction, a meeting cancelled, a member removed, password and export', async () => {
  const a = await admin.register({name: 'Dr Answer Asks'});
  const mentor = await admin.register({name: 'Dr Answer Gives', profession: 'psychiatrist'});
  const mod = await admin.register({name: 'Moderator Max', role: 'moderator'});
  const th = await a.newThread('Which SSRI with tramadol?', 'Worried about serotonin syndrome.', {kind: 'question'});
  const reply = (await mentor.call('POST', `/threads/${th.thread.id}/posts`, {body: 'Avoid the combination; consider duloxetine carefully.'}, 201)).body;
  const page = await pageFor(a);
  await page.goto(`/#/threads/${th.thread.id}`);
  await page.locator(`#post-${reply.id} button`, {hasText: 'Accept as the answer'}).click();
  await page.locator(`#post-${reply.id}.accepted`).waitFor();
  assert.equal((await a.call('GET', `/threads/${th.thread.id}`)).body.thread.accepted_post_id, reply.id);
  // an edit, then the history, then a moderator redacts the first version
  await a.call('PATCH', `/posts/${th.post.id}`, {body: 'Worried about serotonin syndrome in a 70-year-old.', version: th.post.version}, 200);
  await page.reload();
  await page.locator(`#post-${th.post.id} button`, {hasText: 'History'}).click();
  await page.locator('.history li').nth(1).waitFor();
  assert.equal(await page.locator('.history li').count(), 2);
  const mpage = await pageFor(mod);
  await mpage.goto(`/#/threads/${th.thread.id}`);
  await mpage.locator(`#post-${th.post.id} button`, {hasText: 'History'}).click();
  await mpage.locator('.history summary', {hasText: 'Redact version 1'}).click();
  await mpage.locator('.history').getByLabel(/^Reason/).fill('Contained a date of birth');
  await mpage.locator('.history').getByRole('button', {name: 'Redact version 1'}).click();
  await mpage.locator('.history', {hasText: 'This version was redacted.'}).waitFor();
  const revs = (await mod.call('GET', `/posts/${th.post.id}/revisions`)).body.items;
  assert.equal(revs[0].body, null);
  assert.ok(revs[0].redacted);
  // a group meeting cancelled, a member removed
  const coord = await admin.register({name: 'Coordinator Cy', role: 'coordinator'});
  const g = (await coord.call('POST', '/groups', {network: 'BC', name: 'Cancel circle', max_mentees: 4}, 201)).body;
  await coord.call('PUT', `/groups/${g.id}/members/${a.user.id}`, {role: 'mentee'}, 200);
  await coord.call('POST', `/groups/${g.id}/meetings`, {starts_at: new Date(Date.now() + 86400000 * 3).toISOString(),
    duration_minutes: 45, mode: 'phone', where: '1-800-555-0100'}, 201);
  const cpage = await pageFor(coord);
  await cpage.goto(`/#/groups/${g.id}`);
  await cpage.getByRole('button', {name: 'Cancel the meeting'}).click();
  await cpage.locator('.meetings li.cancelled').waitFor();
  assert.equal((await coord.call('GET', `/groups/${g.id}/meetings`)).body.items[0].cancelled, true);
  await cpage.getByRole('button', {name: `Remove ${a.user.display_name}`}).click();
  await cpage.getByText('No mentees yet.').waitFor();
  assert.equal((await coord.call('GET', `/groups/${g.id}`)).body.members.length, 0);
  // the password changed, which ends the other sessions; the export downloads
  const other = await Member.signIn(server, a.email);
  await page.goto('/#/settings');
  await page.getByLabel('Current password').fill(PASSWORD);
  await page.getByLabel(/^New password/).fill('another long passphrase 8');
  await page.getByRole('button', {name: 'Change password'}).click();
  await page.waitForFunction(() => document.getElementById('announce').textContent.includes('Password changed'));
  assert.equal((await other.call('GET', '/me')).status, 401);
  assert.equal((await page.evaluate(async () => (await fetch('/api/v1/me')).status)), 200);
  const [download] = await Promise.all([page.waitForEvent('download'),
    page.getByRole('link', {name: 'Download my data'}).click()]);
  const fs = await import('node:fs');
  const data = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
  assert.equal(data.profile?.email || data.user?.email || data.email, a.email);
  assert.deepEqual([...page.problems, ...mpage.problems, ...cpage.problems], []);
});

test('keyboard only: a thread with a privacy warning acknowledged, and a group member added', async () => {
  const coord = await admin.register({name: 'Coordinator Kay', role: 'coordinator'});
  const mentee = await admin.register({name: `Dr Keyboard Kim ${Date.now() % 100000}`});
  const page = await pageFor(coord);
  await page.goto('/#/new');
  await page.getByRole('heading', {name: 'Start a thread'}).waitFor();
  await tabTo(page, () => document.activeElement.name === 'category_id');
  await page.keyboard.press('ArrowDown'); // the first category
  await tabTo(page, () => document.activeElement.name === 'title');
  await page.keyboard.type('Keyboard case with a phone number');
  await tabTo(page, () => document.activeElement.getAttribute('role') === 'tab');
  await page.keyboard.press('ArrowRight'); // Preview, by the arrow keys
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Preview');
  await page.keyboard.press('ArrowLeft');
  await tabTo(page, () => document.activeElement.tagName === 'TEXTAREA');
  await page.keyboard.type('Reach her at 250-555-0123 after clinic.');
  await page.locator('.privacy mark.finding').waitFor();
  await tabTo(page, () => document.activeElement.name === 'acknowledge_privacy');
  await page.keyboard.press('Space');
  await tabTo(page, () => document.activeElement.textContent === 'Post the thread');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', {name: 'Keyboard case with a phone number'}).waitFor();
  // a group, then a member found and added from the keyboard
  const g = (await coord.call('POST', '/groups', {network: 'BC', name: 'Keyboard circle', max_mentees: 4}, 201)).body;
  await page.goto(`/#/groups/${g.id}`);
  await page.getByRole('heading', {name: 'Keyboard circle'}).waitFor();
  await tabTo(page, () => document.activeElement.name === 'member');
  await page.keyboard.type(mentee.user.display_name);
  await page.keyboard.press('Enter');
  await tabTo(page, () => document.activeElement.classList.contains('pick'));
  await page.keyboard.press('Enter');
  await page.locator('.members', {hasText: mentee.user.display_name}).waitFor();
  // the focus stays in the picker, ready for the next member
  assert.equal(await page.evaluate(() => document.activeElement.name), 'member');
  assert.equal((await coord.call('GET', `/groups/${g.id}`)).body.members.length, 1);
  assert.deepEqual(page.problems, []);
});
