// app: the shell (header, navigation, language switch), the session and the router.
// Pages live in views/; each exports render(ctx) and fills ctx.main. Routes are in the
// URL's fragment (#/t/42), so the server serves this one page for every route.
import {get, del, setCsrf, ApiError} from './api.js';
import {h, mount, announce, toast} from './dom.js';
import {t, setLocale, initialLocale, onLocaleChange, errorText, locale, fmtNumber} from './i18n.js';
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

// Signs out; the page forgets the session only once the server has ended it (or it
// had already ended), so that a failure never leaves a live cookie behind a page that
// looks signed out (a shared workstation).
export async function signOut() {
  try {
    await del('/sessions/current');
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) {
      toast(errorText(e), 'error');
      return;
    }
  }
  forgetSession();
  go('#/signin');
}

function forgetSession() {
  live.stop();
  session.me = null;
  setCsrf(null);
  renderShell();
}

// The unread count in the navigation, changed in place (rebuilding the navigation
// would take the focus from a keyboard user there).
export function updateBadge() {
  const link = document.querySelector('#nav a[href="#/notifications"]');
  if (!link || !session.me) return;
  const n = session.me.unread_notifications || 0;
  let badge = document.getElementById('unread-badge');
  if (!n) {
    if (badge) badge.remove();
    return;
  }
  if (!badge) {
    badge = h('span', {class: 'badge', id: 'unread-badge'});
    link.appendChild(badge);
  }
  mount(badge, ' ', fmtNumber(n), h('span', {class: 'visually-hidden'}, ` ${t('nav.unread')}`));
}

// Draws the current page again (after a change that alters it).
export function redraw() {
  route();
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
        unread ? h('span', {class: 'badge', id: 'unread-badge'}, ' ', fmtNumber(unread),
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
let routeGen = 0; // which navigation is the latest: an older one never draws

export async function route() {
  const gen = ++routeGen;
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
  // the view draws into a page of its own, shown when it is done unless a newer
  // navigation has started meanwhile
  const page = h('div', {class: 'page'});
  const shown = [];
  const ctx = {
    main: page, args: match.args, params, me,
    title(s) {
      if (gen === routeGen) document.title = `${s} · confer`;
    },
    onLeave(fn) {
      if (gen === routeGen) current = fn;
      else fn();
    },
    afterShow(fn) {
      shown.push(fn);
    },
  };
  try {
    mount(m, h('p', {class: 'muted', role: 'status'}, t('common.loading')));
    await match.route.view(ctx);
    if (gen !== routeGen) return;
    mount(m, page);
    for (const fn of shown) fn();
  } catch (e) {
    if (gen !== routeGen) return;
    if (e instanceof ApiError && e.status === 401) {
      forgetSession();
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
    updateBadge();
    announce(t('notifications.new'));
  });
  live.onResync(async () => {
    if (!session.me) return;
    try {
      session.me = await get('/me');
      updateBadge();
    } catch {
      // the count is read again at the next page
    }
  });
  window.addEventListener('hashchange', () => {
    document.activeElement && document.activeElement.blur && document.activeElement.blur();
    route();
  });
  renderShell();
  await route();
}

boot();
