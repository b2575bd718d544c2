// harness: what every browser test needs. A database of its own beside the test one,
// the real confer binary serving the real web/ over HTTP, members made through the
// real API, and Debian's chromium driven by playwright-core with axe-core.
// Environment (set by scripts/test): CONFER_TEST_BIN, CONFER_TEST_DATABASE_URL,
// CONFER_TEST_TMP, CONFER_TEST_WEB_ROOT. CONFER_SCREENSHOTS=1 writes the README's
// screenshots to docs/screenshots/ (otherwise to the temporary folder).
import {spawn, execFileSync} from 'node:child_process';
import {readFileSync, mkdirSync, openSync} from 'node:fs';
import {createServer} from 'node:net';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {before, after} from 'node:test';
import assert from 'node:assert/strict';
import {chromium} from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '..', '..');
const BIN = process.env.CONFER_TEST_BIN || path.join(ROOT, 'build', 'confer');
const BASE_DB = process.env.CONFER_TEST_DATABASE_URL;
const TMP = process.env.CONFER_TEST_TMP || '/tmp';
const WEB_ROOT = process.env.CONFER_TEST_WEB_ROOT || path.join(ROOT, 'web');
export const PASSWORD = 'tundra kettle violin 7';
const axeSource = readFileSync(path.join(here, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

let seq = 0;
export function uniqueEmail(prefix) {
  seq += 1;
  return `${prefix}-${process.pid}-${Date.now()}-${seq}@example.ca`;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const {port} = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

// A fresh database next to the test one, so these tests see only their own data.
function createDatabase() {
  if (!BASE_DB) throw new Error('CONFER_TEST_DATABASE_URL is not set (run scripts/test)');
  const name = `confer_web_${process.pid}`;
  execFileSync('psql', [BASE_DB, '-qc', `DROP DATABASE IF EXISTS ${name}`]);
  execFileSync('psql', [BASE_DB, '-qc', `CREATE DATABASE ${name}`]);
  const u = new URL(BASE_DB);
  u.pathname = `/${name}`;
  return {name, url: u.toString()};
}

export class Server {
  async start() {
    this.db = createDatabase();
    this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    mkdirSync(TMP, {recursive: true});
    this.logPath = path.join(TMP, `confer-web-${process.pid}.log`);
    const log = openSync(this.logPath, 'a');
    this.proc = spawn(BIN, ['serve'], {
      env: {...process.env, CONFER_DATABASE_URL: this.db.url, CONFER_LISTEN: `127.0.0.1:${this.port}`,
        CONFER_WORKERS: '2', CONFER_WEB_ROOT: WEB_ROOT, CONFER_RATE_LIMITS: 'off', CONFER_LOG_LEVEL: 'warn'},
      stdio: ['ignore', log, log],
    });
    const deadline = Date.now() + 30000;
    for (;;) {
      if (this.proc.exitCode !== null) throw new Error(`confer exited: ${readFileSync(this.logPath, 'utf8')}`);
      try {
        const r = await fetch(`${this.url}/readyz`);
        if (r.status === 200) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error('confer did not become ready');
      await new Promise((r) => setTimeout(r, 100));
    }
    return this;
  }

  async stop() {
    if (this.proc && this.proc.exitCode === null) {
      const done = new Promise((r) => this.proc.once('exit', r));
      this.proc.kill('SIGTERM');
      await done;
    }
    if (this.db) {
      try {
        execFileSync('psql', [BASE_DB, '-qc', `DROP DATABASE IF EXISTS ${this.db.name}`]);
      } catch {
        // the throwaway cluster goes anyway
      }
    }
  }

  // `confer admin create`, the password on standard input
  createAdmin(email, name = 'Site Admin') {
    execFileSync(BIN, ['admin', 'create', '--email', email, '--name', name, '--network', 'BC'],
      {input: `${PASSWORD}\n`, env: {...process.env, CONFER_DATABASE_URL: this.db.url}});
    return email;
  }

  async request(method, p, {token, body} = {}) {
    const headers = {Accept: 'application/json'};
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const r = await fetch(`${this.url}/api/v1${p}`, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
    const text = await r.text();
    return {status: r.status, body: text ? JSON.parse(text) : null};
  }
}

// A member signed in over the API (bearer token), for setting things up.
export class Member {
  constructor(server, email, token, user) {
    Object.assign(this, {server, email, token, user});
  }

  static async signIn(server, email) {
    const r = await server.request('POST', '/sessions', {body: {email, password: PASSWORD}});
    if (r.status !== 201) throw new Error(`sign-in ${email}: ${r.status} ${JSON.stringify(r.body)}`);
    return new Member(server, email, r.body.token, r.body.user);
  }

  async call(method, p, body, expect) {
    const r = await this.server.request(method, p, {token: this.token, body});
    if (expect && r.status !== expect) throw new Error(`${method} ${p}: ${r.status} ${JSON.stringify(r.body)}`);
    return r;
  }

  async acceptGuidelines() {
    const g = await this.server.request('GET', '/guidelines');
    await this.call('POST', '/me/guidelines', {version: g.body.version}, 200);
    return this;
  }

  // a thread in a category (the first, or the one whose slug is extra.category)
  async newThread(title, body = 'A first post about tapering.', extra = {}) {
    const cats = (await this.call('GET', '/categories')).body.items;
    const {category, ...rest} = extra;
    const cat = category ? cats.find((c) => c.slug === category) : cats[0];
    const r = await this.call('POST', '/threads', {category_id: cat.id, title, body, kind: 'discussion', ...rest}, 201);
    return r.body;
  }

  async invite(email, {network = 'BC', role} = {}) {
    const r = await this.call('POST', '/invitations', {email, network, site_role: role}, 201);
    return r.body.code;
  }

  // invites and registers a member, who accepts the guidelines unless told not to
  async register({name = 'Dr Test Person', profession = 'family_physician', locale = 'en', role, accept = true} = {}) {
    const email = uniqueEmail('member');
    const code = await this.invite(email, {role});
    const r = await this.server.request('POST', '/users', {body: {invite_code: code, email, display_name: name,
      password: PASSWORD, profession, locale}});
    if (r.status !== 201) throw new Error(`register: ${r.status} ${JSON.stringify(r.body)}`);
    const m = await Member.signIn(this.server, email);
    if (accept) await m.acceptGuidelines();
    return m;
  }
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CONFER_CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}

// A page whose console errors, failed requests to the API's own 5xx and CSP violations
// are collected: a test ends by asserting there were none.
export async function newPage(browser, server, {width = 1024, height = 800, locale = 'en-CA'} = {}) {
  const context = await browser.newContext({viewport: {width, height}, locale, baseURL: server.url});
  const page = await context.newPage();
  page.problems = [];
  page.on('console', (m) => {
    // a refused request (401 before signing in, 422 of a refused post) is logged by the
    // browser as an error: those are expected, and 5xx answers are counted below
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
      page.problems.push(`console: ${m.text()}`);
    }
  });
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 500) page.problems.push(`${r.status()} ${r.url()}`);
  });
  return page;
}

// Signs in through the page's own form.
export async function signInPage(page, email) {
  await page.goto('/#/signin');
  await page.getByLabel(/^(Email|Courriel)/).fill(email);
  await page.getByLabel(/^(Password|Mot de passe)/).fill(PASSWORD);
  await page.getByRole('button', {name: /^(Sign in|Se connecter)$/}).click();
  await page.waitForFunction(() => !location.hash.startsWith('#/signin'));
}

// axe-core on the page as it is: returns the serious and critical violations.
export async function axe(page) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}});
    return r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' '))}));
  });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export async function screenshot(page, name) {
  const dir = process.env.CONFER_SCREENSHOTS === '1' ? path.join(ROOT, 'docs', 'screenshots') : path.join(TMP, 'screenshots');
  mkdirSync(dir, {recursive: true});
  await page.screenshot({path: path.join(dir, `${name}.png`), fullPage: false});
}

// The shared set-up of a test file: a server with its own database, an admin who has
// accepted the guidelines, and a browser; ready({server, admin, browser}) receives them.
export function setup(ready) {
  let env = {};
  before(async () => {
    const server = await new Server().start();
    env.server = server;
    const admin = await (await Member.signIn(server, server.createAdmin(uniqueEmail('admin')))).acceptGuidelines();
    env = {server, admin, browser: await launch()};
    ready(env);
  });
  after(async () => {
    if (env.browser) await env.browser.close();
    if (env.server) await env.server.stop();
  });
}

// Asserts axe-core finds no serious or critical violation on the page as it is.
export async function noAxe(page, what) {
  const v = await axe(page);
  assert.deepEqual(v, [], `${what}: ${JSON.stringify(v, null, 1)}`);
}

// A new page signed in as email.
export async function signedInPage(browser, server, email, opts) {
  const page = await newPage(browser, server, opts);
  await signInPage(page, email);
  return page;
}

// A signed-in page whose confirmation dialogs are accepted.
export async function pageFor(browser, server, member, opts) {
  const page = await newPage(browser, server, opts);
  page.on('dialog', (d) => d.accept());
  await signInPage(page, member.email);
  return page;
}

// Presses Tab until predicate() holds in the page (at most max times); the element
// reached must show its focus.
export async function tabTo(page, predicate, max = 80) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(predicate)) {
      const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
      assert.notEqual(outline, 'none', 'the focused element shows its focus');
      return;
    }
  }
  throw new Error(`not reached with Tab: ${predicate}`);
}
