// Mentorship groups: the list, a group's page (its threads, members and meetings with
// the calendar file), creating a group, managing members and organising meetings.
import {h, mount, announce, toast, focusOn} from '../dom.js';
import {t, loc, fmtDate, errorText} from '../i18n.js';
import {get, post, put, patch, del, qs} from '../api.js';
import {field, form, more, memberPicker} from '../components.js';
import {threadList} from './forum.js';
import {go} from '../app.js';

const canRun = (me, g) => me.site_role === 'admin'
  || (me.site_role === 'coordinator' && me.network && g.network && me.network.id === g.network.id);
const canOrganise = (me, g) => canRun(me, g) || g.my_role === 'mentor';

function meetingText(m) {
  return [fmtDate(m.starts_at, {dateStyle: 'full', timeStyle: 'short'}),
    t('groups.minutes', {n: m.duration_minutes}), t(`groups.mode.${m.mode}`)].join(' · ');
}

export async function groups(ctx) {
  ctx.title(t('nav.groups'));
  const me = ctx.me;
  const page = await get('/groups');
  const row = (g) => h('li', {class: 'card'},
    h('h2', {}, h('a', {href: `#/groups/${g.id}`}, g.name)),
    g.description ? h('p', {}, g.description) : null,
    h('p', {class: 'muted'}, loc(g.network && g.network.name), ' · ',
      t.n('groups.members', g.members.length),
      g.my_role ? [' · ', t(`groups.role.${g.my_role}`)] : null),
    g.next_meeting ? h('p', {}, t('groups.next'), ' ', meetingText(g.next_meeting)) : null);
  const list = h('ul', {class: 'cards'}, page.items.map(row));
  const load = async (cursor) => {
    const next = await get(`/groups${qs({cursor})}`);
    for (const g of next.items) list.appendChild(row(g));
    return more(list, next.next_cursor, load);
  };
  const maker = me.site_role === 'coordinator' || me.site_role === 'admin';
  mount(ctx.main, h('div', {class: 'page-head'}, h('h1', {}, t('nav.groups')),
    maker ? h('a', {class: 'button primary', href: '#/groups/new'}, t('groups.create')) : null),
  page.items.length ? null : h('p', {class: 'muted'}, t('groups.none')), list, more(list, page.next_cursor, load));
}

export async function newGroup(ctx) {
  ctx.title(t('groups.create'));
  const me = ctx.me;
  const nets = await get('/networks');
  const net = field({label: t('profile.network'), name: 'network', type: 'select', required: true,
    value: me.network ? me.network.id : '', options: nets.items
      .filter((n) => me.site_role === 'admin' || (me.network && n.id === me.network.id))
      .map((n) => [n.id, loc(n.name)])});
  const name = field({label: t('groups.name'), name: 'name', required: true, maxlength: 100});
  const desc = field({label: t('groups.description'), name: 'description', type: 'textarea', rows: 3, maxlength: 2000});
  const max = field({label: t('groups.max_mentees'), name: 'max_mentees', type: 'number', value: '4', hint: t('groups.max_hint')});
  max.input.setAttribute('min', '1');
  max.input.setAttribute('max', '20');
  const f = form({'aria-labelledby': 'ng-h'}, [net, name, desc, max,
    h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'}, t('groups.create')),
      h('a', {class: 'button', href: '#/groups'}, t('common.cancel')))], async () => {
    const g = await post('/groups', {network: Number(net.input.value), name: name.input.value.trim(),
      description: desc.input.value, max_mentees: Number(max.input.value)});
    go(`#/groups/${g.id}`);
  });
  mount(ctx.main, h('section', {class: 'narrow'}, h('h1', {id: 'ng-h'}, t('groups.create')), f));
}

export async function group(ctx) {
  const id = Number(ctx.args[0]);
  const me = ctx.me;
  let g = await get(`/groups/${id}`);
  const [threads, past] = await Promise.all([get(`/threads${qs({group: id})}`),
    get(`/groups/${id}/meetings${qs({when: 'past', limit: 5})}`)]);
  ctx.title(g.name);
  const membersBox = h('div', {});
  const meetingsBox = h('div', {});

  const renderMembers = () => {
    const runner = canRun(me, g);
    const row = (m) => h('li', {},
      h('a', {href: `#/users/${m.user.id}`}, m.user.display_name), ' ',
      h('span', {class: 'muted'}, `· ${t(`profession.${m.user.profession}`)} · `),
      h('span', {class: `pill role-${m.role}`}, t(`groups.role.${m.role}`)),
      runner ? [' ', h('button', {type: 'button', class: 'link', onclick: async () => {
        if (!window.confirm(t('groups.remove_confirm', {name: m.user.display_name}))) return;
        try {
          await del(`/groups/${id}/members/${m.user.id}`);
          g = await get(`/groups/${id}`);
          renderMembers();
          focusOn(document.getElementById('gp-h'));
          announce(t('groups.removed', {name: m.user.display_name}));
        } catch (e) {
          toast(errorText(e), 'error');
        }
      }}, t('groups.remove', {name: m.user.display_name}))] : null);
    const mentors = g.members.filter((m) => m.role === 'mentor');
    const mentees = g.members.filter((m) => m.role === 'mentee');
    let adder = null;
    if (runner) {
      const role = field({label: t('groups.add_as'), name: 'role', type: 'select', value: 'mentee',
        options: [['mentee', t('groups.role.mentee')], ['mentor', t('groups.role.mentor')]]});
      adder = h('div', {class: 'adder'}, h('h3', {}, t('groups.add_member')), role,
        memberPicker({label: t('groups.find_member'), name: 'member', network: g.network && g.network.id,
          exclude: () => g.members.map((m) => m.user.id),
          onPick: async (u) => {
            try {
              g = await put(`/groups/${id}/members/${u.id}`, {role: role.input.value});
              renderMembers();
              focusOn(membersBox.querySelector('.picker input'));
              announce(t('groups.added', {name: u.display_name}));
            } catch (e) {
              toast(errorText(e), 'error');
            }
          }}));
    }
    mount(membersBox,
      h('h3', {}, t('groups.mentors')), h('ul', {class: 'members'}, mentors.map(row)),
      h('h3', {}, t('groups.mentees'), ' ', h('span', {class: 'muted'}, `(${mentees.length}/${g.max_mentees})`)),
      mentees.length ? h('ul', {class: 'members'}, mentees.map(row)) : h('p', {class: 'muted'}, t('groups.no_mentees')),
      adder);
  };

  const meetingForm = (m, done) => {
    const local = (iso) => {
      if (!iso) return '';
      const d = new Date(iso);
      const pad = (n) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
    };
    const when = field({label: t('groups.when'), name: 'starts_at', type: 'datetime-local', required: true, value: local(m && m.starts_at)});
    const dur = field({label: t('groups.duration'), name: 'duration_minutes', type: 'number', required: true, value: String((m && m.duration_minutes) || 60)});
    const mode = field({label: t('groups.mode'), name: 'mode', type: 'select', value: (m && m.mode) || 'video',
      options: ['video', 'phone', 'in_person'].map((x) => [x, t(`groups.mode.${x}`)])});
    const where = field({label: t('groups.where'), name: 'where', value: (m && m.where) || '', hint: t('groups.where_hint'), maxlength: 500});
    const agenda = field({label: t('groups.agenda'), name: 'agenda', type: 'textarea', rows: 3, value: (m && m.agenda) || '', maxlength: 5000});
    return form({class: 'meeting-form'}, [when, dur, mode, where, agenda, h('div', {class: 'actions'},
      h('button', {type: 'submit', class: 'primary'}, m ? t('groups.save_meeting') : t('groups.schedule')),
      h('button', {type: 'button', onclick: () => done(null)}, t('common.cancel')))], async () => {
      const body = {starts_at: when.input.value ? new Date(when.input.value).toISOString() : '',
        duration_minutes: Number(dur.input.value), mode: mode.input.value, where: where.input.value, agenda: agenda.input.value};
      const saved = m ? await patch(`/groups/${id}/meetings/${m.id}`, body) : await post(`/groups/${id}/meetings`, body);
      done(saved);
    });
  };

  const renderMeetings = async () => {
    const up = await get(`/groups/${id}/meetings${qs({when: 'upcoming'})}`);
    const organiser = canOrganise(me, g);
    const row = (m) => h('li', {class: m.cancelled ? 'cancelled' : null},
      h('p', {}, h('strong', {}, meetingText(m)), m.cancelled ? h('span', {class: 'pill'}, ` ${t('groups.cancelled')}`) : null),
      m.where ? h('p', {}, t('groups.where'), ': ', m.where) : null,
      m.agenda ? h('p', {class: 'agenda'}, m.agenda) : null,
      organiser && !m.cancelled ? h('p', {class: 'actions'},
        h('button', {type: 'button', class: 'link', onclick: (ev) => {
          const li = ev.currentTarget.closest('li');
          const f = meetingForm(m, async (saved) => {
            if (saved) announce(t('groups.meeting_saved'));
            await renderMeetings();
            focusOn(document.getElementById('gm-h'));
          });
          mount(li, f);
          f.querySelector('input').focus();
        }}, t('groups.edit_meeting')),
        h('button', {type: 'button', class: 'link', onclick: async () => {
          if (!window.confirm(t('groups.cancel_confirm'))) return;
          try {
            await del(`/groups/${id}/meetings/${m.id}`);
            announce(t('groups.meeting_cancelled'));
            await renderMeetings();
            focusOn(document.getElementById('gm-h'));
          } catch (e) {
            toast(errorText(e), 'error');
          }
        }}, t('groups.cancel_meeting'))) : null);
    const add = organiser ? h('button', {type: 'button', class: 'button', onclick: (ev) => {
      const f = meetingForm(null, async (saved) => {
        if (saved) announce(t('groups.meeting_scheduled'));
        await renderMeetings();
        focusOn(document.getElementById('gm-h'));
      });
      ev.currentTarget.replaceWith(f);
      f.querySelector('input').focus();
    }}, t('groups.schedule')) : null;
    mount(meetingsBox,
      h('p', {}, h('a', {href: `/api/v1/groups/${id}/meetings.ics`, download: 'meetings.ics'}, t('groups.calendar')),
        ' ', h('span', {class: 'muted'}, t('groups.calendar_hint'))),
      up.items.length ? h('ul', {class: 'meetings'}, up.items.map(row)) : h('p', {class: 'muted'}, t('groups.no_meetings')),
      add,
      past.items.length ? [h('h3', {}, t('groups.past')), h('ul', {class: 'meetings past'}, past.items.map(row))] : null);
  };

  renderMembers();
  await renderMeetings();
  const load = (cursor) => get(`/threads${qs({group: id, cursor})}`);
  mount(ctx.main,
    h('p', {class: 'crumbs'}, h('a', {href: '#/groups'}, t('nav.groups'))),
    h('div', {class: 'page-head'}, h('h1', {}, g.name),
      g.my_role || canRun(me, g) ? h('a', {class: 'button primary', href: `#/new?group=${id}`}, t('forum.new_thread')) : null),
    g.description ? h('p', {}, g.description) : null,
    h('div', {class: 'columns'},
      h('section', {'aria-labelledby': 'gt-h', class: 'main-col'}, h('h2', {id: 'gt-h'}, t('groups.threads')),
        threadList(threads.items, threads.next_cursor, load)),
      h('div', {class: 'side-col'},
        h('section', {'aria-labelledby': 'gm-h'}, h('h2', {id: 'gm-h'}, t('groups.meetings')), meetingsBox),
        h('section', {'aria-labelledby': 'gp-h'}, h('h2', {id: 'gp-h'}, t('groups.people')), membersBox))));
}
