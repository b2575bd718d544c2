// Administration (admins): the forum's categories and the webhooks with their
// deliveries.
import {h, mount, announce, toast} from '../dom.js';
import {t, loc, fmtDate, errorText} from '../i18n.js';
import {get, post, patch, del, qs} from '../api.js';
import {field, form, more} from '../components.js';
import {redraw} from '../app.js';

const EVENTS = ['*', 'thread.created', 'post.created', 'post.hidden', 'flag.created', 'flag.resolved',
  'answer.accepted', 'response.due', 'response.overdue', 'user.created'];

function categoryForm(c, onSaved, onCancel) {
  const slug = field({label: t('site.slug'), name: 'slug', required: true, value: c ? c.slug : '', hint: t('site.slug_hint'), maxlength: 40});
  const nameEn = field({label: t('site.name_en'), name: 'name.en', required: true, value: c ? c.name.en : '', maxlength: 60, lang: 'en'});
  const nameFr = field({label: t('site.name_fr'), name: 'name.fr', required: true, value: c ? c.name.fr : '', maxlength: 60, lang: 'fr'});
  const descEn = field({label: t('site.description_en'), name: 'description.en', type: 'textarea', rows: 2, value: c ? c.description.en : '', maxlength: 500, lang: 'en'});
  const descFr = field({label: t('site.description_fr'), name: 'description.fr', type: 'textarea', rows: 2, value: c ? c.description.fr : '', maxlength: 500, lang: 'fr'});
  const position = field({label: t('site.position'), name: 'position', type: 'number', value: c ? String(c.position) : '', hint: t('site.position_hint')});
  return form({class: 'category-form'}, [slug, nameEn, nameFr, descEn, descFr, position, h('div', {class: 'actions'},
    h('button', {type: 'submit', class: 'primary'}, c ? t('post.save') : t('site.create_category')),
    onCancel ? h('button', {type: 'button', onclick: onCancel}, t('common.cancel')) : null)], async (f) => {
    const body = {slug: slug.input.value.trim(), name: {en: nameEn.input.value.trim(), fr: nameFr.input.value.trim()},
      description: {en: descEn.input.value.trim(), fr: descFr.input.value.trim()}};
    if (position.input.value !== '') body.position = Number(position.input.value);
    const saved = c ? await patch(`/categories/${c.id}`, body) : await post('/categories', body);
    if (!c) f.reset();
    onSaved(saved);
  });
}

function webhookForm(w, onSaved, onCancel) {
  const url = field({label: t('site.url'), name: 'url', type: 'url', required: true, value: w ? w.url : '', hint: t('site.url_hint')});
  const secret = field({label: t('site.secret'), name: 'secret', type: 'password', required: !w, autocomplete: 'new-password',
    hint: w ? t('site.secret_keep') : t('site.secret_hint')});
  const boxes = EVENTS.map((e) => {
    const id = `ev-${w ? w.id : 'new'}-${e.replace(/\W/g, '_')}`;
    return h('p', {class: 'check'}, h('input', {type: 'checkbox', id, value: e, checked: w ? w.events.includes(e) : e === '*'}),
      h('label', {for: id}, e === '*' ? t('site.all_events') : h('code', {}, e)));
  });
  const activeId = `active-${w ? w.id : 'new'}`;
  const active = h('input', {type: 'checkbox', id: activeId, checked: w ? w.active : true});
  return form({class: 'webhook-form'}, [url, secret,
    h('fieldset', {dataset: {field: 'events'}}, h('legend', {}, t('site.events')), boxes, h('p', {class: 'field-error'})),
    h('p', {class: 'check'}, active, h('label', {for: activeId}, t('site.active'))),
    h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'}, w ? t('post.save') : t('site.create_webhook')),
      onCancel ? h('button', {type: 'button', onclick: onCancel}, t('common.cancel')) : null)], async (f) => {
    const body = {url: url.input.value.trim(), active: active.checked,
      events: boxes.map((b) => b.querySelector('input')).filter((i) => i.checked).map((i) => i.value)};
    if (secret.input.value) body.secret = secret.input.value;
    const saved = w ? await patch(`/webhooks/${w.id}`, body) : await post('/webhooks', body);
    if (!w) f.reset();
    onSaved(saved);
  });
}

async function deliveries(w, box) {
  const page = await get(`/webhooks/${w.id}/deliveries${qs({limit: 10})}`);
  const row = (d) => h('tr', {},
    h('td', {}, fmtDate(d.created_at)), h('td', {}, h('code', {}, d.event)),
    h('td', {}, t(`site.state.${d.state}`)), h('td', {}, String(d.attempts)),
    h('td', {}, d.last_status ? String(d.last_status) : (d.last_error ? h('code', {}, d.last_error) : '—')),
    h('td', {}, d.state === 'failed' ? h('button', {type: 'button', class: 'link', onclick: async () => {
      try {
        await post(`/webhooks/${w.id}/deliveries/${d.id}/redeliver`);
        announce(t('site.redelivering'));
        await deliveries(w, box);
      } catch (e) {
        toast(errorText(e), 'error');
      }
    }}, t('site.redeliver')) : ''));
  const body = h('tbody', {}, page.items.map(row));
  mount(box, page.items.length ? h('div', {class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': t('site.deliveries')},
    h('table', {}, h('thead', {}, h('tr', {}, ['when', 'event', 'state', 'attempts', 'answer', 'action'].map((c) =>
      h('th', {scope: 'col'}, t(`site.col.${c}`))))), body)) : h('p', {class: 'muted'}, t('site.no_deliveries')),
  more(body, page.next_cursor, async function load(cursor) {
    const next = await get(`/webhooks/${w.id}/deliveries${qs({limit: 10, cursor})}`);
    for (const d of next.items) body.appendChild(row(d));
    return more(body, next.next_cursor, load);
  }));
}

export async function site(ctx) {
  ctx.title(t('site.title'));
  const [cats, hooks] = await Promise.all([get('/categories'), get('/webhooks')]);
  const catList = h('ul', {class: 'site-list'});
  const hookList = h('ul', {class: 'site-list'});
  for (const c of cats.items) {
    const li = h('li', {}, h('h3', {}, loc(c.name), ' ', h('span', {class: 'muted'}, `/${c.slug}`)),
      h('p', {}, loc(c.description)),
      h('button', {type: 'button', class: 'link', onclick: (ev) => {
        const b = ev.currentTarget;
        b.hidden = true;
        const f = categoryForm(c, () => {
          announce(t('site.saved'));
          redraw();
        }, () => {
          f.remove();
          b.hidden = false;
          b.focus();
        });
        b.after(f);
        f.querySelector('input').focus();
      }}, t('site.edit', {name: loc(c.name)})));
    catList.appendChild(li);
  }
  for (const w of hooks.items) {
    const box = h('div', {});
    const li = h('li', {}, h('h3', {}, h('code', {}, w.url)),
      h('p', {class: 'muted'}, w.active ? t('site.active') : t('site.inactive'), ' · ', w.events.join(', '), ' · ',
        t('site.counts', {delivered: w.deliveries.delivered, failed: w.deliveries.failed, pending: w.deliveries.pending})),
      h('p', {class: 'actions'},
        h('button', {type: 'button', class: 'link', onclick: async () => {
          try {
            await post(`/webhooks/${w.id}/ping`);
            announce(t('site.pinged'));
            await deliveries(w, box);
          } catch (e) {
            toast(errorText(e), 'error');
          }
        }}, t('site.ping')),
        h('button', {type: 'button', class: 'link', onclick: () => deliveries(w, box).catch((e) => toast(errorText(e), 'error'))}, t('site.show_deliveries')),
        h('button', {type: 'button', class: 'link', onclick: (ev) => {
          const b = ev.currentTarget;
          const f = webhookForm(w, () => {
            announce(t('site.saved'));
            redraw();
          }, () => {
            f.remove();
            b.focus();
          });
          b.closest('li').appendChild(f);
          f.querySelector('input').focus();
        }}, t('site.edit_webhook')),
        h('button', {type: 'button', class: 'link', onclick: async () => {
          if (!window.confirm(t('site.delete_confirm'))) return;
          try {
            await del(`/webhooks/${w.id}`);
            announce(t('site.deleted'));
            redraw();
          } catch (e) {
            toast(errorText(e), 'error');
          }
        }}, t('site.delete_webhook'))),
      box);
    hookList.appendChild(li);
  }
  mount(ctx.main, h('h1', {}, t('site.title')),
    h('section', {'aria-labelledby': 'cat-h'}, h('h2', {id: 'cat-h'}, t('forum.categories')), catList,
      h('details', {}, h('summary', {}, t('site.create_category')), categoryForm(null, () => {
        announce(t('site.saved'));
        redraw();
      }))),
    h('section', {'aria-labelledby': 'hook-h'}, h('h2', {id: 'hook-h'}, t('site.webhooks')),
      h('p', {}, t('site.webhooks_intro')),
      hooks.items.length ? hookList : h('p', {class: 'muted'}, t('site.no_webhooks')),
      h('details', {}, h('summary', {}, t('site.create_webhook')), webhookForm(null, () => {
        announce(t('site.saved'));
        redraw();
      }))));
}
