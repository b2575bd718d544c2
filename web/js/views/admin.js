// For mentors, coordinators and admins: responses awaited (the 48-72 h commitment),
// reports with charts, and invitations.
import {h, mount, announce} from '../dom.js';
import {t, loc, fmtDate, fmtNumber, fmtPercent, errorText} from '../i18n.js';
import {get, post, qs, ApiError} from '../api.js';
import {field, form, more, author} from '../components.js';

function duration(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  const hours = seconds / 3600;
  if (hours < 1) return t('time.minutes', {n: fmtNumber(Math.round(seconds / 60))});
  if (hours < 48) return t('time.hours', {n: fmtNumber(Math.round(hours * 10) / 10)});
  return t('time.days', {n: fmtNumber(Math.round(hours / 24 * 10) / 10)});
}

export async function responses(ctx) {
  ctx.title(t('nav.responses'));
  const page = await get('/responses/pending');
  const row = (r) => h('li', {class: `response state-${r.state}`},
    h('p', {}, h('span', {class: `pill state-${r.state}`}, t(`responses.state.${r.state}`)), ' ',
      r.thread_id ? h('a', {href: `#/threads/${r.thread_id}`}, r.title) : h('span', {class: 'muted'}, t('responses.private'))),
    h('p', {class: 'muted'}, t('responses.from'), ' ', author(r.mentee), ' · ',
      t('responses.waiting_for', {time: duration(r.age_seconds)}), ' · ',
      t('responses.due', {when: fmtDate(r.due_at)})),
    r.mentors.length ? h('p', {class: 'muted'}, t('responses.mentors'), ' ',
      r.mentors.map((m) => m.display_name).join(', ')) : null);
  const list = h('ul', {class: 'responses'}, page.items.map(row));
  const load = async (cursor) => {
    const next = await get(`/responses/pending${qs({cursor})}`);
    for (const r of next.items) list.appendChild(row(r));
    return more(list, next.next_cursor, load);
  };
  mount(ctx.main, h('h1', {}, t('nav.responses')), h('p', {}, t('responses.intro')),
    page.items.length ? null : h('p', {class: 'ok'}, t('responses.none')), list, more(list, page.next_cursor, load));
}

// A horizontal bar chart in SVG, with its numbers as a table for screen readers and
// anyone who wants them. rows: [{label, value}]
export function barChart(id, title, rows, format = fmtNumber) {
  const max = Math.max(1, ...rows.map((r) => r.value));
  const rowH = 28;
  const labelW = 170;
  const width = 520;
  const barW = width - labelW - 60;
  const svg = h('svg:svg', {viewBox: `0 0 ${width} ${Math.max(1, rows.length) * rowH + 8}`, role: 'img',
    'aria-labelledby': `${id}-t`, class: 'chart', preserveAspectRatio: 'xMinYMin meet'},
  h('svg:title', {id: `${id}-t`}, `${title}: ${rows.map((r) => `${r.label} ${format(r.value)}`).join(', ')}`),
  rows.map((r, i) => {
    const y = i * rowH + 4;
    const w = Math.round((r.value / max) * barW);
    return h('svg:g', {},
      h('svg:text', {x: labelW - 8, y: y + 18, 'text-anchor': 'end', class: 'chart-label'}, r.label.length > 24 ? `${r.label.slice(0, 23)}…` : r.label),
      h('svg:rect', {x: labelW, y: y + 4, width: Math.max(w, r.value ? 2 : 0), height: rowH - 10, class: 'chart-bar'}),
      h('svg:text', {x: labelW + w + 6, y: y + 18, class: 'chart-value'}, format(r.value)));
  }));
  return h('figure', {class: 'chart-figure', 'aria-labelledby': `${id}-c`},
    h('figcaption', {id: `${id}-c`}, title),
    rows.length ? svg : h('p', {class: 'muted'}, t('reports.nothing')),
    rows.length ? h('details', {}, h('summary', {}, t('reports.as_table')),
      h('table', {}, h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, t('reports.what')), h('th', {scope: 'col'}, t('reports.value')))),
        h('tbody', {}, rows.map((r) => h('tr', {}, h('th', {scope: 'row'}, r.label), h('td', {}, format(r.value))))))) : null);
}

function sumBy(items, key, value) {
  const m = new Map();
  for (const it of items) m.set(key(it), (m.get(key(it)) || 0) + value(it));
  return [...m.entries()].map(([label, v]) => ({label, value: v})).sort((a, b) => b.value - a.value);
}

export async function reports(ctx) {
  ctx.title(t('nav.reports'));
  const me = ctx.me;
  const p = ctx.params;
  const today = new Date();
  const iso = (d) => d.toISOString().slice(0, 10);
  const from = p.get('from') || iso(new Date(today.getTime() - 30 * 86400000));
  const to = p.get('to') || iso(new Date(today.getTime() + 86400000));
  const admin = me.site_role === 'admin';
  const network = p.get('network') || (admin ? '' : (me.network && me.network.code) || '');
  const [nets, cats] = await Promise.all([get('/networks'), get('/categories')]);
  const fromF = field({label: t('search.from'), name: 'from', type: 'date', value: from});
  const toF = field({label: t('reports.to'), name: 'to', type: 'date', value: to});
  const netF = admin ? field({label: t('profile.network'), name: 'network', type: 'select', value: network,
    options: [['', t('reports.all_networks')], ...nets.items.map((n) => [n.code, loc(n.name)])]}) : null;
  const f = form({class: 'filters-form', 'aria-label': t('reports.period')}, [h('div', {class: 'filters'}, fromF, toF, netF),
    h('button', {type: 'submit', class: 'primary'}, t('reports.show'))], async () => {
    location.hash = `#/reports${qs({from: fromF.input.value, to: toF.input.value, network: netF ? netF.input.value : network})}`;
  });
  const out = h('div', {});
  mount(ctx.main, h('h1', {}, t('nav.reports')), f, out);
  let r;
  const query = {from, to, network: network || undefined};
  try {
    r = await get(`/reports/summary${qs(query)}`);
  } catch (e) {
    mount(out, h('p', {class: 'error', role: 'alert'}, errorText(e)));
    return;
  }
  const catName = (slug) => {
    const c = cats.items.find((x) => x.slug === slug);
    return c ? loc(c.name) : slug;
  };
  const spaceLabel = (a) => (a.space === 'category' ? catName(a.category) : t(`reports.space.${a.space}`));
  const fr = r.first_response;
  const share = fr.within_72h_share;
  const csv = h('button', {type: 'button', onclick: async () => {
    try {
      const res = await fetch(`/api/v1/reports/summary${qs(query)}`, {headers: {Accept: 'text/csv'}, credentials: 'same-origin'});
      if (!res.ok) {
        let problem = {};
        try {
          problem = await res.json();
        } catch {
          problem = {};
        }
        throw new ApiError(res.status, problem);
      }
      const url = URL.createObjectURL(await res.blob());
      const a = h('a', {href: url, download: `confer-report-${from}-${to}.csv`});
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) {
      announce(errorText(e));
    }
  }}, t('reports.csv'));
  mount(out,
    // the period is in whole UTC days, to excluded: its last day is shown
    h('p', {class: 'muted'}, t('reports.period_is', {from: fmtDate(r.from, {dateStyle: 'long', timeZone: 'UTC'}),
      to: fmtDate(new Date(Date.parse(r.to) - 1).toISOString(), {dateStyle: 'long', timeZone: 'UTC'}),
      network: r.network ? loc((nets.items.find((n) => n.code === r.network) || {}).name) || r.network : t('reports.all_networks')})),
    h('ul', {class: 'kpis'},
      h('li', {}, h('span', {class: 'kpi'}, fmtNumber(r.active_members.reduce((s, x) => s + x.members, 0))), t('reports.active_members')),
      h('li', {}, h('span', {class: 'kpi'}, fmtNumber(r.activity.reduce((s, x) => s + x.posts, 0))), t('reports.posts')),
      h('li', {}, h('span', {class: 'kpi'}, duration(fr.median_seconds)), t('reports.median_first')),
      h('li', {}, h('span', {class: 'kpi'}, share === null ? '—' : fmtPercent(share)), t('reports.within_72h')),
      h('li', {}, h('span', {class: 'kpi'}, fmtNumber(r.meetings.held)), t('reports.meetings_held'))),
    h('div', {class: 'charts'},
      barChart('ch-prof', t('reports.chart.professions'), sumBy(r.active_members, (x) => t(`profession.${x.profession}`), (x) => x.members)),
      barChart('ch-posts', t('reports.chart.posts'), sumBy(r.activity, spaceLabel, (x) => x.posts)),
      barChart('ch-threads', t('reports.chart.threads'), sumBy(r.activity, spaceLabel, (x) => x.threads)),
      barChart('ch-flags', t('reports.chart.flags'), Object.entries(r.flags.by_reason).map(([k, v]) => ({label: t(`flag.reason.${k}`), value: v})).sort((a, b) => b.value - a.value)),
      barChart('ch-resp', t('reports.chart.response'), [
        {label: t('reports.median'), value: fr.median_seconds || 0}, {label: t('reports.p90'), value: fr.p90_seconds || 0}], duration)),
    h('dl', {class: 'facts'},
      h('dt', {}, t('reports.clocks')), h('dd', {}, fmtNumber(fr.clocks)),
      h('dt', {}, t('reports.answered')), h('dd', {}, fmtNumber(fr.answered)),
      h('dt', {}, t('reports.still_waiting')), h('dd', {}, fmtNumber(fr.waiting)),
      h('dt', {}, t('reports.flags_raised')), h('dd', {}, `${fmtNumber(r.flags.raised)} (${t('reports.resolved_n', {n: fmtNumber(r.flags.resolved)})})`),
      h('dt', {}, t('reports.meeting_minutes')), h('dd', {}, t('reports.minutes_in_groups', {minutes: fmtNumber(r.meetings.minutes), groups: fmtNumber(r.meetings.groups)}))),
    h('p', {}, csv));
}

export async function invite(ctx) {
  ctx.title(t('invite.title'));
  const me = ctx.me;
  const admin = me.site_role === 'admin';
  const nets = await get('/networks');
  const email = field({label: t('field.email'), name: 'email', type: 'email', required: true});
  const net = field({label: t('profile.network'), name: 'network', type: 'select', required: true,
    value: me.network ? me.network.code : '', options: nets.items
      .filter((n) => admin || (me.network && n.id === me.network.id)).map((n) => [n.code, loc(n.name)])});
  const role = admin ? field({label: t('profile.role'), name: 'site_role', type: 'select', value: 'member',
    options: ['member', 'coordinator', 'moderator', 'admin'].map((r) => [r, t(`role.${r}`)])}) : null;
  const result = h('div', {'aria-live': 'polite'});
  const f = form({'aria-labelledby': 'inv-h'}, [email, net, role, h('button', {type: 'submit', class: 'primary'}, t('invite.send'))], async (fm) => {
    const r = await post('/invitations', {email: email.input.value.trim(), network: net.input.value, site_role: role ? role.input.value : undefined});
    const link = `${location.origin}/#/signup?code=${r.code}`;
    mount(result, h('div', {class: 'invited'}, h('h2', {}, t('invite.done', {email: r.email})),
      h('p', {}, t('invite.share')), h('p', {}, h('code', {class: 'code'}, link)),
      h('p', {class: 'muted'}, t('invite.expires', {when: fmtDate(r.expires_at)}))));
    fm.reset();
    announce(t('invite.done', {email: r.email}));
  });
  mount(ctx.main, h('section', {class: 'narrow'}, h('h1', {id: 'inv-h'}, t('invite.title')), h('p', {}, t('invite.intro')), f, result));
}
