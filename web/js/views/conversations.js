// Private conversations: the list, and starting one with chosen colleagues.
import {h, mount, focusOn} from '../dom.js';
import {t} from '../i18n.js';
import {get, post, qs} from '../api.js';
import {field, form, composer, memberPicker} from '../components.js';
import {threadList} from './forum.js';
import {go} from '../app.js';

export async function conversations(ctx) {
  ctx.title(t('nav.conversations'));
  const page = await get('/conversations');
  const load = (cursor) => get(`/conversations${qs({cursor})}`);
  mount(ctx.main, h('div', {class: 'page-head'}, h('h1', {}, t('nav.conversations')),
    h('a', {class: 'button primary', href: '#/conversations/new'}, t('conversations.new'))),
  h('p', {class: 'muted'}, t('conversations.intro')),
  threadList(page.items, page.next_cursor, load));
}

export async function newConversation(ctx) {
  ctx.title(t('conversations.new'));
  const chosen = new Map();
  const to = Number(ctx.params.get('to'));
  if (to) {
    const u = await get(`/users/${to}`);
    if (u.id !== ctx.me.id) chosen.set(u.id, u);
  }
  const chosenBox = h('ul', {class: 'chosen', 'aria-live': 'polite', 'aria-label': t('conversations.with')});
  const renderChosen = () => mount(chosenBox, [...chosen.values()].map((u) => h('li', {},
    u.display_name, ' ', h('button', {type: 'button', class: 'link', onclick: () => {
      chosen.delete(u.id);
      renderChosen();
      focusOn(picker.querySelector('input'));
    }}, t('conversations.remove', {name: u.display_name})))));
  renderChosen();
  const picker = memberPicker({label: t('conversations.find'), name: 'participant_ids',
    exclude: () => [ctx.me.id, ...chosen.keys()], onPick: (u) => {
      chosen.set(u.id, u);
      renderChosen();
    }});
  const title = field({label: t('field.title'), name: 'title', required: true, minlength: 3, maxlength: 200});
  const c = composer({label: t('compose.body'), title});
  const f = form({'aria-labelledby': 'nc-h'}, [h('fieldset', {}, h('legend', {}, t('conversations.with')), chosenBox, picker),
    title, c.el, h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'}, t('conversations.send')),
      h('a', {class: 'button', href: '#/conversations'}, t('common.cancel')))], async () => {
    await c.flush();
    try {
      const th = await post('/conversations', {participant_ids: [...chosen.keys()], title: title.input.value.trim(),
        body: c.textarea.value, acknowledge_privacy: c.acknowledged});
      go(`#/threads/${th.id}`);
    } catch (e) {
      c.showRefusal(e);
      throw e;
    }
  });
  mount(ctx.main, h('section', {}, h('h1', {id: 'nc-h'}, t('conversations.new')),
    h('p', {class: 'muted'}, t('conversations.private')), f));
}
