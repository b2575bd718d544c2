// Browser tests of groups and meetings, conversations, flags and the moderation queue
// and log, suspensions, pending responses, reports with charts, invitations, and
// editing and locking a thread; against the real server and database, axe on each page.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {setup, newPage, noAxe, pageFor as openAs, uniqueEmail, PASSWORD} from './harness.mjs';

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
  await mpage.locator('table.log td code', {hasText: 'post.decision.hide'}).first().waitFor();
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
