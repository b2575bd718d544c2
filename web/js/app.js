// app: the shell (header, navigation, language switch), the session and the router.
// Pages live in views/; each exports render(ctx) and fills ctx.main. Routes are in the
// URL's fragment (#/t/42), so the server serves this one page for every route.
import {get, del, setCsrf, ApiError} from './api.js';
import {h, mount, announce} from './dom.js';
import {t, setLocale, initialLocale, onLocaleChange, errorText, locale} from './i18n.js';
import {routes, routed} from './routes.js';
import {live} from './live.js';

export const session = {me: null};

const main = () => document.getElementById('main');

// The member's session, if the cookie still holds one.
async function loadSession() {
  try {
    const s = await get('/sessions/current');
    setCsrf(s.csrf_token);
    session.me = s.user;
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401) throw e;
    session.me = null;
  }
}

export async function refreshMe() {
  if (!session.me) return;
  session.me = await get('/me');
  renderShell();
}

export function signedIn(s) {
  setCsrf(s.csrf_token);
  session.me = s.user;
  if (s.user.locale && s.user.locale !== locale()) setLocale(s.user.locale, {quiet: true});
  live.start();
  renderShell();
}

export async function signOut() {
  try {
    await del('/sessions/current');
  } catch {
    // the session may already be over; the page forgets it either way
  }
  live.stop();
  session.me = null;
  setCsrf(null);
  renderShell();
  go('#/signin');
}

export function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function navLink(href, label, extra) {
  const here = location.hash === href || (href !== '#/' && location.hash.startsWith(href + '/'))
      || (href === '#/' && (location.hash === '' || location.hash === '#/'));
  return h('li', {}, h('a', {href, 'aria-current': here ? 'page' : null}, label, extra || null));
}

export function renderShell() {
  const me = session.me;
  document.getElementById('skip').textContent = t('shell.skip');
  document.getElementById('brand').setAttribute('aria-label', t('shell.home'));
  const lang = document.getElementById('lang');
  lang.textContent = locale() === 'fr' ? 'English' : 'Français';
  lang.lang = locale() === 'fr' ? 'en' : 'fr';
  lang.setAttribute('aria-label', locale() === 'fr' ? 'Switch to English' : 'Passer au français');
  const nav = document.getElementById('nav');
  nav.setAttribute('aria-label', t('shell.nav'));
  if (!me) {
    mount(nav);
    mount(document.getElementById('account'),
      h('a', {href: '#/signin'}, t('shell.signin')));
  } else {
    const unread = me.unread_notifications || 0;
    const items = [
      navLink('#/', t('nav.forum')),
      navLink('#/groups', t('nav.groups')),
      navLink('#/conversations', t('nav.conversations')),
      navLink('#/search', t('nav.search')),
      navLink('#/notifications', t('nav.notifications'),
        unread ? h('span', {class: 'badge', id: 'unread-badge'}, ' ', String(unread),
          h('span', {class: 'visually-hidden'}, ` ${t('nav.unread')}`)) : null),
      navLink('#/bookmarks', t('nav.bookmarks')),
    ];
    const mentor = (me.groups || []).some((g) => g.role === 'mentor');
    const role = me.site_role;
    if (mentor || role === 'coordinator' || role === 'admin') {
      items.push(navLink('#/responses', t('nav.responses')));
    }
    if (role === 'moderator' || role === 'admin' || role === 'coordinator') {
      items.push(navLink('#/moderation', t('nav.moderation')));
    }
    if (role === 'coordinator' || role === 'admin') {
      items.push(navLink('#/reports', t('nav.reports')));
      items.push(navLink('#/invite', t('nav.invite')));
    }
    if (role === 'admin') items.push(navLink('#/admin', t('nav.admin')));
    mount(nav, h('ul', {}, items.filter((li) => routed(li.firstChild.getAttribute('href')))));
    mount(document.getElementById('account'),
      h('a', {href: '#/settings'}, me.display_name),
      ' ',
      h('button', {type: 'button', class: 'link', onclick: signOut}, t('shell.signout')));
  }
  mount(document.getElementById('footer'), h('p', {}, t('shell.footer')));
}

let current = null; // the page's cleanup, when it has one
let routedOnce = false;

export async function route() {
  const hash = location.hash || '#/';
  const [path, query] = hash.slice(1).split('?');
  const params = new URLSearchParams(query || '');
  if (current) {
    try {
      current();
    } catch {
      // a page's cleanup never stops the next page
    }
    current = null;
  }
  const m = main();
  let match = null;
  for (const r of routes) {
    const found = r.pattern.exec(path);
    if (found) {
      match = {route: r, args: found.slice(1)};
      break;
    }
  }
  renderShell();
  if (!match) {
    document.title = `${t('error.not_found')} · confer`;
    mount(m, h('h1', {}, t('error.not_found')), h('p', {}, h('a', {href: '#/'}, t('shell.home'))));
    return;
  }
  const me = session.me;
  if (!match.route.public && !me) {
    go(`#/signin?next=${encodeURIComponent(hash)}`);
    return;
  }
  if (me && !me.guidelines_accepted && !match.route.public && !match.route.beforeGuidelines) {
    go(`#/guidelines?next=${encodeURIComponent(hash)}`);
    return;
  }
  const ctx = {
    main: m, args: match.args, params, me,
    title(s) {
      document.title = `${s} · confer`;
    },
    onLeave(fn) {
      current = fn;
    },
  };
  try {
    mount(m, h('p', {class: 'muted', role: 'status'}, t('common.loading')));
    await match.route.view(ctx);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      session.me = null;
      go(`#/signin?next=${encodeURIComponent(hash)}`);
      return;
    }
    showPageError(m, e);
  }
  // focus the new page's heading, for keyboard and screen reader users; not on the
  // first page drawn, where Tab starts at the top with the skip link
  const heading = m.querySelector('h1');
  const first = !routedOnce;
  routedOnce = true;
  if (heading && !first && document.activeElement === document.body) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({preventScroll: true});
  }
}

export function showPageError(m, e) {
  const title = e instanceof ApiError && e.status === 404 ? t('error.not_found') : t('common.error');
  document.title = `${title} · confer`;
  mount(m, h('h1', {}, title), h('p', {class: 'error', role: 'alert'}, errorText(e)),
    h('p', {}, h('a', {href: '#/'}, t('shell.home'))));
}

async function boot() {
  setLocale(initialLocale(), {quiet: true});
  onLocaleChange(() => {
    renderShell();
    route();
  });
  // the skip link moves focus to the page; following its #main would be a route
  document.getElementById('skip').addEventListener('click', (ev) => {
    ev.preventDefault();
    main().focus();
  });
  document.getElementById('lang').addEventListener('click', async () => {
    const next = locale() === 'fr' ? 'en' : 'fr';
    setLocale(next);
    announce(t('shell.language_changed'));
    if (session.me) {
      try {
        await import('./api.js').then((m) => m.patch('/me', {locale: next}));
        session.me.locale = next;
      } catch {
        // the page is switched even if the setting could not be saved
      }
    }
  });
  try {
    await loadSession();
  } catch (e) {
    showPageError(main(), e);
    return;
  }
  if (session.me) {
    if (session.me.locale && session.me.locale !== locale()) {
      setLocale(session.me.locale, {quiet: true});
    }
    live.start();
  }
  live.onNotification(() => {
    if (!session.me) return;
    session.me.unread_notifications = (session.me.unread_notifications || 0) + 1;
    renderShell();
    announce(t('notifications.new'));
  });
  window.addEventListener('hashchange', () => {
    document.activeElement && document.activeElement.blur && document.activeElement.blur();
    route();
  });
  renderShell();
  await route();
}

boot();
