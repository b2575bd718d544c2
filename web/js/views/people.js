// People: a member's profile, and the member's own settings (profile, language, email,
// password, sessions, export).
import {h, mount, announce, focusOn} from '../dom.js';
import {t, fmtDate, loc, fmtAgo, errorText, fmtNumber} from '../i18n.js';
import {get, patch, post, del} from '../api.js';
import {field, form} from '../components.js';
import {session, renderShell, redraw} from '../app.js';
import {setLocale, locale} from '../i18n.js';
import {suspendBox} from './moderation.js';

export async function profile(ctx) {
  const id = Number(ctx.args[0]);
  const u = await get(`/users/${id}`);
  ctx.title(u.display_name);
  const mine = ctx.me && ctx.me.id === u.id;
  mount(ctx.main, h('article', {class: 'narrow profile'},
    h('h1', {}, u.display_name),
    h('dl', {class: 'facts'},
      h('dt', {}, t('field.profession')), h('dd', {}, t(`profession.${u.profession}`)),
      u.network ? [h('dt', {}, t('profile.network')), h('dd', {}, loc(u.network.name))] : null,
      h('dt', {}, t('profile.role')), h('dd', {}, t(`role.${u.site_role}`)),
      h('dt', {}, t('profile.joined')), h('dd', {}, fmtDate(u.joined_at, {dateStyle: 'long'})),
      h('dt', {}, t('profile.posts')), h('dd', {}, fmtNumber(u.post_count))),
    u.bio ? [h('h2', {}, t('profile.about')), h('p', {class: 'bio'}, u.bio)] : null,
    mine ? h('p', {}, h('a', {href: '#/settings'}, t('profile.edit')))
      : h('p', {}, h('a', {class: 'button', href: `#/conversations/new?to=${u.id}`}, t('profile.message'))),
    u.suspended_until ? h('p', {class: 'error'}, t('moderation.suspended_until', {when: fmtDate(u.suspended_until)})) : null,
    !mine && ctx.me && ['moderator', 'admin'].includes(ctx.me.site_role)
      ? suspendBox(u, redraw) : null,
    !mine && ctx.me && ctx.me.site_role === 'admin' ? roleBox(u) : null));
}

// An admin's change of a member's site role.
function roleBox(u) {
  const role = field({label: t('profile.role'), name: 'site_role', type: 'select', value: u.site_role,
    options: ['member', 'coordinator', 'moderator', 'admin'].map((r) => [r, t(`role.${r}`)])});
  const reason = field({label: t('moderation.reason'), name: 'reason', required: true, minlength: 3, maxlength: 500});
  return h('section', {'aria-labelledby': 'role-h'}, h('h2', {id: 'role-h'}, t('profile.change_role')),
    form({}, [role, reason, h('button', {type: 'submit'}, t('profile.change_role'))], async () => {
      await patch(`/users/${u.id}`, {site_role: role.input.value, reason: reason.input.value.trim()});
      announce(t('settings.saved'));
      redraw();
    }));
}

export async function settings(ctx) {
  ctx.title(t('settings.title'));
  const me = await get('/me');
  const name = field({label: t('field.display_name'), name: 'display_name', value: me.display_name, required: true, maxlength: 60});
  const bio = field({label: t('settings.bio'), name: 'bio', type: 'textarea', value: me.bio || '', rows: 3, maxlength: 2000});
  const lang = field({label: t('field.locale'), name: 'locale', type: 'select', value: me.locale,
    options: [['en', 'English'], ['fr', 'Français']]});
  const mail = field({label: t('settings.email_notifications'), name: 'email_notifications', type: 'select',
    value: me.email_notifications, options: ['immediate', 'daily', 'off'].map((v) => [v, t(`settings.email.${v}`)])});
  const profileForm = form({'aria-labelledby': 'profile-h'}, [name, bio, lang, mail,
    h('button', {type: 'submit', class: 'primary'}, t('settings.save'))], async () => {
    const updated = await patch('/me', {display_name: name.input.value.trim(), bio: bio.input.value,
      locale: lang.input.value, email_notifications: mail.input.value});
    session.me = {...session.me, ...updated};
    announce(t('settings.saved'));
    if (updated.locale && updated.locale !== locale()) setLocale(updated.locale);
    else renderShell();
  });
  const current = field({label: t('settings.current_password'), name: 'current_password', type: 'password', required: true, autocomplete: 'current-password'});
  const next = field({label: t('settings.new_password'), name: 'new_password', type: 'password', required: true,
    autocomplete: 'new-password', hint: t('signup.password_hint')});
  const pwForm = form({'aria-labelledby': 'password-h'}, [current, next,
    h('button', {type: 'submit'}, t('settings.change_password'))], async (f) => {
    await post('/me/password', {current_password: current.input.value, new_password: next.input.value});
    f.reset();
    announce(t('settings.password_changed'));
    renderSessions();
  });
  const sessionsBox = h('div', {});
  const renderSessions = async () => {
    try {
      const s = await get('/me/sessions');
      mount(sessionsBox, h('ul', {class: 'sessions'}, s.items.map((x) => h('li', {},
        h('span', {}, x.user_agent || t('settings.unknown_device')), ' · ',
        h('span', {class: 'muted'}, t('settings.last_seen', {when: fmtAgo(x.last_seen_at)})),
        x.current ? h('strong', {}, ` · ${t('settings.this_session')}`)
          : [' ', h('button', {type: 'button', class: 'link', onclick: async () => {
            try {
              await del(`/me/sessions/${x.id}`);
              announce(t('settings.session_ended'));
              await renderSessions();
              focusOn(document.getElementById('sessions-h'));
            } catch (e) {
              announce(errorText(e));
            }
          }}, t('settings.end_session'))]))));
    } catch (e) {
      mount(sessionsBox, h('p', {class: 'error'}, errorText(e)));
    }
  };
  await renderSessions();
  mount(ctx.main, h('h1', {}, t('settings.title')),
    h('section', {'aria-labelledby': 'profile-h'}, h('h2', {id: 'profile-h'}, t('settings.profile')),
      h('p', {class: 'muted'}, t('settings.email_is', {email: me.email})), profileForm),
    h('section', {'aria-labelledby': 'password-h'}, h('h2', {id: 'password-h'}, t('settings.password')),
      h('p', {class: 'muted'}, t('settings.password_help')), pwForm),
    h('section', {'aria-labelledby': 'sessions-h'}, h('h2', {id: 'sessions-h'}, t('settings.sessions')), sessionsBox),
    h('section', {'aria-labelledby': 'export-h'}, h('h2', {id: 'export-h'}, t('settings.export')),
      h('p', {}, t('settings.export_help')),
      h('p', {}, h('a', {class: 'button', href: '/api/v1/me/export', download: 'confer-export.json'}, t('settings.download'))),
      h('p', {}, h('a', {href: '#/guidelines'}, t('guidelines.title')), ' · ', h('a', {href: `#/users/${me.id}`}, t('settings.my_profile')))));
}
