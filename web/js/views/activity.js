// The member's own activity: notifications (live), bookmarks, and search.
import {h, mount, trustedHtml, announce, focusOn} from '../dom.js';
import {t, fmtAgo, fmtDate, errorText, loc} from '../i18n.js';
import {get, post, del, qs} from '../api.js';
import {author, more, field, form} from '../components.js';
import {live} from '../live.js';
import {session, updateBadge, go} from '../app.js';

function noteLink(n) {
  if (!n.thread_id) return '#/notifications';
  return `#/threads/${n.thread_id}${n.post_id ? `?post=${n.post_id}` : ''}`;
}

function noteRow(n, onOpen) {
  const who = n.actor ? n.actor.display_name : t('notifications.someone');
  const text = t(`notifications.kind.${n.kind}`, {name: who, title: n.thread_title || t('notifications.a_thread')});
  return h('li', {class: `note${n.read_at ? '' : ' unread'}`, dataset: {id: n.id}},
    h('a', {href: noteLink(n), onclick: () => onOpen(n)}, text),
    n.read_at ? null : h('span', {class: 'visually-hidden'}, ` (${t('notifications.unread')})`),
    ' ', h('time', {class: 'muted', datetime: n.created_at, title: fmtDate(n.created_at)}, fmtAgo(n.created_at)));
}

export async function notifications(ctx) {
  ctx.title(t('nav.notifications'));
  const page = await get('/notifications');
  const setUnread = (n) => {
    if (session.me) session.me.unread_notifications = n;
    updateBadge();
  };
  const open = (n) => {
    if (!n.read_at) post('/notifications/read', {ids: [n.id]}).then((r) => setUnread(r.unread)).catch(() => {});
  };
  // new ones are announced (announce), not read out as a live list
  const list = h('ul', {class: 'notes', 'aria-label': t('nav.notifications')},
    page.items.map((n) => noteRow(n, open)));
  const empty = h('p', {class: 'muted', hidden: page.items.length > 0}, t('notifications.none'));
  const readAll = h('button', {type: 'button', onclick: async () => {
    try {
      const r = await post('/notifications/read', {all: true});
      setUnread(r.unread);
      for (const li of list.querySelectorAll('.unread')) {
        li.classList.remove('unread');
        li.querySelector('.visually-hidden')?.remove();
      }
      announce(t('notifications.all_read'));
    } catch (e) {
      announce(errorText(e));
    }
  }}, t('notifications.mark_all'));
  const load = async (cursor) => {
    const next = await get(`/notifications${qs({cursor})}`);
    for (const n of next.items) list.appendChild(noteRow(n, open));
    return more(list, next.next_cursor, load);
  };
  mount(ctx.main, h('div', {class: 'page-head'}, h('h1', {}, t('nav.notifications')), readAll),
    empty, list, more(list, page.next_cursor, load));
  // new ones appear at the top as they come
  ctx.onLeave(live.onNotification((n) => {
    empty.hidden = true;
    list.prepend(noteRow(n, open));
  }));
}

export async function bookmarks(ctx) {
  ctx.title(t('nav.bookmarks'));
  const page = await get('/me/bookmarks');
  const row = (b) => {
    const body = h('div', {class: 'post-body excerpt'});
    if (b.post.body_html) trustedHtml(body, b.post.body_html);
    else body.appendChild(h('p', {class: 'placeholder'}, t('post.hidden')));
    const li = h('li', {class: 'bookmark-row'},
      h('h2', {}, h('a', {href: `#/threads/${b.thread.id}?post=${b.post.id}`}, b.thread.title)),
      h('p', {class: 'muted'}, author(b.post.author, b.post.created_at)), body,
      h('button', {type: 'button', class: 'link', onclick: async () => {
        try {
          await del(`/posts/${b.post.id}/bookmark`);
          const next = li.nextElementSibling || li.previousElementSibling;
          li.remove();
          focusOn(next ? next.querySelector('a') : document.querySelector('main h1'));
          announce(t('post.unbookmarked'));
        } catch (e) {
          announce(errorText(e));
        }
      }}, t('post.unbookmark')));
    return li;
  };
  const list = h('ul', {class: 'bookmarks'}, page.items.map(row));
  const load = async (cursor) => {
    const next = await get(`/me/bookmarks${qs({cursor})}`);
    for (const b of next.items) list.appendChild(row(b));
    return more(list, next.next_cursor, load);
  };
  mount(ctx.main, h('h1', {}, t('nav.bookmarks')),
    page.items.length ? null : h('p', {class: 'muted'}, t('bookmarks.none')),
    list, more(list, page.next_cursor, load));
}

export async function search(ctx) {
  ctx.title(t('nav.search'));
  const p = ctx.params;
  const cats = await get('/categories');
  const groups = session.me.groups || [];
  const q = field({label: t('search.query'), name: 'q', type: 'search', value: p.get('q') || '', hint: t('search.hint')});
  const cat = field({label: t('field.category'), name: 'category', type: 'select', value: p.get('category') || '',
    options: [['', t('search.any')], ...cats.items.map((c) => [c.slug, loc(c.name)])]});
  const grp = field({label: t('search.group'), name: 'group', type: 'select', value: p.get('group') || '',
    options: [['', t('search.any')], ...groups.map((g) => [g.id, g.name])]});
  const tag = field({label: t('search.tag'), name: 'tag', value: p.get('tag') || ''});
  const from = field({label: t('search.from'), name: 'from', type: 'date', value: p.get('from') || ''});
  const to = field({label: t('search.to'), name: 'to', type: 'date', value: p.get('to') || ''});
  const params = () => ({q: q.input.value.trim(), category: cat.input.value, group: grp.input.value,
    tag: tag.input.value.trim(), from: from.input.value, to: to.input.value});
  const f = form({role: 'search', class: 'search-form'}, [q,
    h('details', {open: ['category', 'group', 'tag', 'from', 'to'].some((k) => p.get(k)) ? true : null},
      h('summary', {}, t('search.filters')), h('div', {class: 'filters'}, cat, grp, tag, from, to)),
    h('button', {type: 'submit', class: 'primary'}, t('search.submit'))], async () => {
    go(`#/search${qs(params())}`);
  });
  const results = h('section', {'aria-labelledby': 'results-h'});
  mount(ctx.main, h('h1', {}, t('nav.search')), f, results);
  if (!p.get('q')) return;
  const query = Object.fromEntries([...p.entries()]);
  let r;
  try {
    r = await get(`/search${qs(query)}`);
  } catch (e) {
    mount(results, h('p', {class: 'error', role: 'alert'}, errorText(e)));
    return;
  }
  const hit = (x) => {
    const title = h('a', {href: `#/threads/${x.thread_id}?post=${x.post_id}`});
    trustedHtml(title, x.title_html); // escaped by the server, with <mark>
    const snippet = h('p', {class: 'snippet'});
    trustedHtml(snippet, x.snippet);
    return h('li', {class: 'hit'}, h('h3', {}, title), snippet,
      h('p', {class: 'muted'}, author(x.author, x.created_at)));
  };
  const list = h('ol', {class: 'hits'}, r.items.map(hit));
  const load = async (cursor) => {
    const next = await get(`/search${qs({...query, cursor})}`);
    for (const x of next.items) list.appendChild(hit(x));
    return more(list, next.next_cursor, load);
  };
  mount(results, h('h2', {id: 'results-h'}, r.items.length ? t('search.results') : t('search.none')),
    list, more(list, r.next_cursor, load));
  announce(r.items.length ? t('search.results') : t('search.none'));
}
