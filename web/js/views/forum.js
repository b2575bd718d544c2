// The national forum: categories, a category's threads, starting a thread.
import {h, mount} from '../dom.js';
import {t, loc, fmtAgo, fmtDate} from '../i18n.js';
import {get, post, qs} from '../api.js';
import {field, form, composer, author, more} from '../components.js';
import {go} from '../app.js';

export async function home(ctx) {
  ctx.title(t('forum.title'));
  const cats = await get('/categories');
  mount(ctx.main,
    h('div', {class: 'page-head'}, h('h1', {}, t('forum.title')),
      h('a', {class: 'button primary', href: '#/new'}, t('forum.new_thread'))),
    h('ul', {class: 'cards', 'aria-label': t('forum.categories')}, cats.items.map((c) => h('li', {class: 'card'},
      h('h2', {}, h('a', {href: `#/c/${c.slug}`}, loc(c.name))),
      h('p', {}, loc(c.description)),
      h('p', {class: 'muted'}, t.n('forum.threads', c.thread_count),
        c.last_post_at ? [' · ', t('forum.last_activity'), ' ',
          h('time', {datetime: c.last_post_at, title: fmtDate(c.last_post_at)}, fmtAgo(c.last_post_at))] : null)))));
}

// One thread as a row of a list.
export function threadRow(th) {
  const unread = th.unread_count || 0;
  return h('li', {class: `thread-row${unread ? ' unread' : ''}`},
    h('div', {class: 'thread-main'},
      th.pinned ? h('span', {class: 'pill'}, t('thread.pinned')) : null,
      th.locked ? h('span', {class: 'pill'}, t('thread.locked')) : null,
      th.kind !== 'discussion' ? h('span', {class: `pill kind-${th.kind}`}, t(`thread.kind.${th.kind}`)) : null,
      h('a', {href: `#/threads/${th.id}`, class: 'thread-title'}, th.title),
      (th.tags || []).map((tag) => h('span', {class: 'tag'}, tag)),
      h('p', {class: 'muted'}, author(th.author, th.created_at))),
    h('p', {class: 'thread-stats'},
      h('span', {}, t.n('thread.posts', th.post_count)),
      unread ? h('span', {class: 'badge'}, t.n('thread.unread', unread)) : null,
      th.awaiting_response_since ? h('span', {class: 'pill awaiting'}, t('thread.awaiting')) : null,
      h('time', {datetime: th.last_post_at, title: fmtDate(th.last_post_at)}, fmtAgo(th.last_post_at))));
}

export function threadList(items, nextCursor, load) {
  const list = h('ul', {class: 'threads'}, items.map(threadRow));
  const wrap = h('div', {}, items.length ? list : h('p', {class: 'muted'}, t('forum.no_threads')));
  const pager = more(list, nextCursor, async (cursor) => {
    const page = await load(cursor);
    for (const th of page.items) list.appendChild(threadRow(th));
    return more(list, page.next_cursor, load);
  });
  if (pager) wrap.appendChild(pager);
  return wrap;
}

export async function category(ctx) {
  const slug = ctx.args[0];
  const sort = ['latest', 'created', 'top'].includes(ctx.params.get('sort')) ? ctx.params.get('sort') : 'latest';
  const [cat, page] = await Promise.all([get(`/categories/${encodeURIComponent(slug)}`),
    get(`/threads${qs({category: slug, sort})}`)]);
  ctx.title(loc(cat.name));
  const load = (cursor) => get(`/threads${qs({category: slug, sort, cursor})}`);
  const sorter = h('nav', {class: 'sorts', 'aria-label': t('forum.sort')},
    ['latest', 'created', 'top'].map((s) => h('a', {href: `#/c/${slug}?sort=${s}`,
      'aria-current': s === sort ? 'true' : null}, t(`forum.sort.${s}`))));
  mount(ctx.main,
    h('p', {class: 'crumbs'}, h('a', {href: '#/'}, t('forum.title'))),
    h('div', {class: 'page-head'}, h('h1', {}, loc(cat.name)),
      h('a', {class: 'button primary', href: `#/new?category=${encodeURIComponent(slug)}`}, t('forum.new_thread'))),
    h('p', {}, loc(cat.description)), sorter,
    threadList(page.items, page.next_cursor, load));
}

// A new thread in a category (?category=slug) or a group (?group=id).
export async function newThread(ctx) {
  ctx.title(t('compose.new_title'));
  const groupId = ctx.params.get('group');
  const cats = groupId ? null : await get('/categories');
  const where = groupId
    ? null
    : field({label: t('field.category'), name: 'category_id', type: 'select', required: true,
      value: (cats.items.find((c) => c.slug === ctx.params.get('category')) || {}).id || '',
      options: [['', t('field.choose')], ...cats.items.map((c) => [c.id, loc(c.name)])]});
  const title = field({label: t('field.title'), name: 'title', required: true, minlength: 3, maxlength: 200});
  const kind = field({label: t('field.kind'), name: 'kind', type: 'select', value: 'discussion',
    options: ['discussion', 'case', 'question'].map((k) => [k, t(`thread.kind.${k}`)])});
  const tags = field({label: t('field.tags'), name: 'tags', hint: t('compose.tags_hint')});
  const c = composer({label: t('compose.body'), title});
  const f = form({'aria-labelledby': 'new-h'}, [where, title, kind, tags, c.el,
    h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'}, t('compose.post_thread')),
      h('a', {href: groupId ? `#/groups/${groupId}` : '#/', class: 'button'}, t('common.cancel')))], async () => {
    await c.flush();
    const body = {
      title: title.input.value.trim(), body: c.textarea.value, kind: kind.input.value,
      tags: tags.input.value.split(/[\s,]+/).map((s) => s.trim().toLowerCase()).filter(Boolean),
      acknowledge_privacy: c.acknowledged,
    };
    if (groupId) body.group_id = Number(groupId);
    else if (where.input.value) body.category_id = Number(where.input.value);
    try {
      const r = await post('/threads', body);
      go(`#/threads/${r.thread.id}`);
    } catch (e) {
      c.showRefusal(e);
      throw e;
    }
  });
  mount(ctx.main, h('section', {},
    h('h1', {id: 'new-h'}, t('compose.new_title')),
    groupId ? h('p', {class: 'muted'}, t('compose.in_group')) : null, f));
}
