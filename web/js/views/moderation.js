// Moderation: the queue of flagged posts with decisions, the log of every moderator
// action, and suspending a member (from their profile).
import {h, mount, trustedHtml, announce, focusOn} from '../dom.js';
import {t, fmtDate, fmtAgo} from '../i18n.js';
import {get, post, qs} from '../api.js';
import {field, form, more, author} from '../components.js';

function tabs(current, items) {
  return h('nav', {class: 'sorts', 'aria-label': t('moderation.views')}, items.map(([href, label]) =>
    h('a', {href, 'aria-current': href === current ? 'page' : null}, label)));
}

export async function queue(ctx) {
  ctx.title(t('moderation.queue'));
  const status = ctx.params.get('status') === 'resolved' ? 'resolved' : 'pending';
  const page = await get(`/moderation/queue${qs({status})}`);
  const item = (it) => {
    const body = h('div', {class: 'post-body'});
    if (it.post.body_html) trustedHtml(body, it.post.body_html);
    else body.appendChild(h('p', {class: 'placeholder'}, t('post.deleted')));
    const note = field({label: t('moderation.note'), name: 'note', maxlength: 1000});
    const li = h('li', {class: 'queue-item'},
      h('h2', {}, h('a', {href: `#/threads/${it.thread.id}?post=${it.post.id}`}, it.thread.title)),
      h('p', {class: 'muted'}, author(it.post.author, it.post.created_at), ' · ',
        h('span', {class: `pill state-${it.post.state}`}, t(`moderation.state.${it.post.state}`)),
        it.hidden_reason ? [' · ', it.hidden_reason] : null),
      body,
      h('h3', {}, t.n('moderation.flags', it.flags.length)),
      h('ul', {class: 'flags'}, it.flags.map((f) => h('li', {},
        h('strong', {}, t(`flag.reason.${f.reason}`)), ' · ', f.flagger ? f.flagger.display_name : '', ' · ',
        h('time', {datetime: f.created_at, title: fmtDate(f.created_at)}, fmtAgo(f.created_at)),
        f.note ? [': ', h('q', {}, f.note)] : null,
        f.decision ? [' → ', t(`moderation.action.${f.decision}`)] : null))));
    if (status === 'pending') {
      const f = form({class: 'decision'}, [note, h('div', {class: 'actions'},
        ['keep', 'hide', 'delete'].map((a) => h('button', {type: 'submit', value: a,
          class: a === 'keep' ? 'primary' : null}, t(`moderation.action.${a}`))))], async (_form, submitter) => {
        await post(`/moderation/posts/${it.post.id}/decision`, {action: submitter ? submitter.value : 'keep',
          note: note.input.value});
        // the next item (or the page's heading) takes the focus
        const next = li.nextElementSibling || li.previousElementSibling;
        li.remove();
        focusOn(next ? next.querySelector('h2') : document.querySelector('main h1'));
        announce(t('moderation.decided'));
      });
      li.appendChild(f);
    }
    return li;
  };
  const list = h('ul', {class: 'queue'}, page.items.map(item));
  const load = async (cursor) => {
    const next = await get(`/moderation/queue${qs({status, cursor})}`);
    for (const it of next.items) list.appendChild(item(it));
    return more(list, next.next_cursor, load);
  };
  const isMod = ['moderator', 'admin'].includes(ctx.me.site_role);
  mount(ctx.main, h('h1', {}, t('moderation.queue')),
    tabs(`#/moderation${status === 'resolved' ? '?status=resolved' : ''}`, [
      ['#/moderation', t('moderation.pending')], ['#/moderation?status=resolved', t('moderation.resolved')],
      ...(isMod ? [['#/moderation/log', t('moderation.log')]] : [])]),
    page.items.length ? null : h('p', {class: 'muted'}, t('moderation.empty')),
    list, more(list, page.next_cursor, load));
}

export async function log(ctx) {
  ctx.title(t('moderation.log'));
  const p = ctx.params;
  const filters = {action: p.get('action') || '', target_type: p.get('target_type') || ''};
  const page = await get(`/moderation/log${qs(filters)}`);
  const row = (e) => h('tr', {},
    h('td', {}, h('time', {datetime: e.created_at}, fmtDate(e.created_at))),
    h('td', {}, e.actor ? h('a', {href: `#/users/${e.actor.id}`}, e.actor.display_name) : t('moderation.system')),
    h('td', {}, actionName(e.action)),
    h('td', {}, targetLink(e.target)),
    h('td', {}, e.reason || ''),
    h('td', {class: 'change'}, h('code', {}, change(e.before)), ' → ', h('code', {}, change(e.after))));
  const body = h('tbody', {}, page.items.map(row));
  const table = h('table', {class: 'log'},
    h('caption', {class: 'visually-hidden'}, t('moderation.log')),
    h('thead', {}, h('tr', {}, ['when', 'who', 'action', 'target', 'reason', 'change'].map((c) =>
      h('th', {scope: 'col'}, t(`moderation.col.${c}`))))), body);
  const load = async (cursor) => {
    const next = await get(`/moderation/log${qs({...filters, cursor})}`);
    for (const e of next.items) body.appendChild(row(e));
    return more(body, next.next_cursor, load);
  };
  const action = field({label: t('moderation.col.action'), name: 'action', value: filters.action, hint: t('moderation.action_hint')});
  const target = field({label: t('moderation.col.target'), name: 'target_type', type: 'select', value: filters.target_type,
    options: [['', t('search.any')], ...['post', 'thread', 'user', 'group', 'category', 'webhook'].map((x) => [x, t(`moderation.target.${x}`)])]});
  const f = form({class: 'filters-form'}, [h('div', {class: 'filters'}, action, target),
    h('button', {type: 'submit'}, t('search.submit'))], async () => {
    location.hash = `#/moderation/log${qs({action: action.input.value.trim(), target_type: target.input.value})}`;
  });
  mount(ctx.main, h('h1', {}, t('moderation.log')),
    tabs('#/moderation/log', [['#/moderation', t('moderation.pending')], ['#/moderation?status=resolved', t('moderation.resolved')],
      ['#/moderation/log', t('moderation.log')]]),
    f, h('div', {class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': t('moderation.log')}, table),
    more(body, page.next_cursor, load));
}

// A logged action in the reader's words, with its code; a code this client does not
// know is shown as it is.
function actionName(action) {
  const k = `moderation.log_action.${action}`;
  const words = t(k);
  return words === k ? h('code', {}, action) : h('span', {}, words);
}

function targetLink(target) {
  if (!target) return '';
  const label = `${t(`moderation.target.${target.type}`)} ${target.id}`;
  if (target.type === 'user') return h('a', {href: `#/users/${target.id}`}, label);
  if (target.type === 'thread') return h('a', {href: `#/threads/${target.id}`}, label);
  if (target.type === 'group') return h('a', {href: `#/groups/${target.id}`}, label);
  return label;
}

function change(o) {
  if (!o) return '—';
  return Object.entries(o).map(([k, v]) => `${k}: ${v === null ? '—' : typeof v === 'object' ? JSON.stringify(v) : v}`).join(', ');
}

// The suspension controls on a profile, for moderators and admins.
export function suspendBox(u, onChange) {
  const box = h('section', {class: 'suspend', 'aria-labelledby': 'susp-h'});
  const reason = field({label: t('moderation.reason'), name: 'reason', required: true, minlength: 3, maxlength: 500});
  if (u.suspended_until) {
    mount(box, h('h2', {id: 'susp-h'}, t('moderation.suspended_until', {when: fmtDate(u.suspended_until)})),
      form({}, [reason, h('button', {type: 'submit'}, t('moderation.unsuspend'))], async () => {
        onChange(await post(`/moderation/users/${u.id}/unsuspend`, {reason: reason.input.value.trim()}));
        announce(t('moderation.unsuspended'));
      }));
  } else {
    const until = field({label: t('moderation.until'), name: 'until', type: 'date', required: true});
    mount(box, h('h2', {id: 'susp-h'}, t('moderation.suspend')),
      form({}, [until, reason, h('button', {type: 'submit'}, t('moderation.suspend'))], async () => {
        // until the end of that day where the moderator is
        const end = until.input.value ? new Date(`${until.input.value}T23:59:59`).toISOString() : '';
        onChange(await post(`/moderation/users/${u.id}/suspend`, {until: end, reason: reason.input.value.trim()}));
        announce(t('moderation.suspended'));
      }));
  }
  return box;
}
