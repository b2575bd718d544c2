// Signing in, signing up with an invitation, and accepting the guidelines.
import {h, mount, trustedHtml} from '../dom.js';
import {t, loc} from '../i18n.js';
import {get, post} from '../api.js';
import {field, form} from '../components.js';
import {signedIn, go, session} from '../app.js';

function nextOf(ctx) {
  const n = ctx.params.get('next');
  return n && n.startsWith('#/') && !n.startsWith('#/signin') ? n : '#/';
}

export async function signin(ctx) {
  ctx.title(t('signin.title'));
  if (session.me) {
    go(nextOf(ctx));
    return;
  }
  const email = field({label: t('field.email'), name: 'email', type: 'email', required: true, autocomplete: 'username'});
  const password = field({label: t('field.password'), name: 'password', type: 'password', required: true, autocomplete: 'current-password'});
  const f = form({'aria-labelledby': 'signin-h'}, [email, password,
    h('button', {type: 'submit', class: 'primary'}, t('signin.submit'))], async () => {
    const s = await post('/sessions', {email: email.input.value.trim(), password: password.input.value});
    signedIn(s);
    go(nextOf(ctx));
  });
  mount(ctx.main, h('section', {class: 'narrow'},
    h('h1', {id: 'signin-h'}, t('signin.title')), f,
    h('p', {class: 'muted'}, t('signin.invite_only'), ' ', h('a', {href: '#/signup'}, t('signin.have_code')))));
}

const PROFESSIONS = ['family_physician', 'nurse_practitioner', 'registered_nurse', 'occupational_therapist',
  'physiotherapist', 'social_worker', 'pharmacist', 'psychologist', 'psychiatrist', 'other_physician', 'other'];

export function professionOptions() {
  return PROFESSIONS.map((p) => [p, t(`profession.${p}`)]);
}

export async function signup(ctx) {
  ctx.title(t('signup.title'));
  const code = field({label: t('field.invite_code'), name: 'invite_code', required: true, value: ctx.params.get('code') || '', autocomplete: 'off'});
  const email = field({label: t('field.email'), name: 'email', type: 'email', required: true, autocomplete: 'email', hint: t('signup.email_hint')});
  const name = field({label: t('field.display_name'), name: 'display_name', required: true, autocomplete: 'name', maxlength: 60});
  const profession = field({label: t('field.profession'), name: 'profession', type: 'select', required: true,
    options: [['', t('field.choose')], ...professionOptions()]});
  const password = field({label: t('field.password'), name: 'password', type: 'password', required: true,
    autocomplete: 'new-password', hint: t('signup.password_hint'), minlength: 12, maxlength: 128});
  const lang = field({label: t('field.locale'), name: 'locale', type: 'select', value: document.documentElement.lang,
    options: [['en', 'English'], ['fr', 'Français']]});
  const f = form({'aria-labelledby': 'signup-h'}, [code, email, name, profession, password, lang,
    h('button', {type: 'submit', class: 'primary'}, t('signup.submit'))], async () => {
    const body = {
      invite_code: code.input.value.trim(), email: email.input.value.trim(),
      display_name: name.input.value.trim(), password: password.input.value,
      profession: profession.input.value || undefined, locale: lang.input.value,
    };
    await post('/users', body);
    const s = await post('/sessions', {email: body.email, password: body.password});
    signedIn(s);
    go('#/guidelines');
  });
  mount(ctx.main, h('section', {class: 'narrow'},
    h('h1', {id: 'signup-h'}, t('signup.title')), h('p', {}, t('signup.intro')), f,
    h('p', {class: 'muted'}, h('a', {href: '#/signin'}, t('signup.have_account')))));
}

export async function guidelines(ctx) {
  ctx.title(t('guidelines.title'));
  const g = await get('/guidelines');
  const body = h('div', {class: 'post-body guidelines'});
  // the guidelines are Markdown rendered by the server
  const html = g.body_html ? loc(g.body_html) : null;
  if (html) trustedHtml(body, html);
  else body.appendChild(h('pre', {class: 'plain'}, loc(g.body)));
  const me = ctx.me;
  const accepted = me && me.guidelines_accepted && me.guidelines_version === g.version;
  // the rendered guidelines open with their own title: it is the page's heading
  const parts = [body.querySelector('h1') ? null : h('h1', {}, t('guidelines.title')),
    h('p', {class: 'muted'}, t('guidelines.version', {version: g.version})), body];
  const own = body.querySelector('h1');
  if (own) parts.unshift(own);
  if (me && !accepted) {
    const f = form({}, [h('button', {type: 'submit', class: 'primary'}, t('guidelines.accept'))], async () => {
      await post('/me/guidelines', {version: g.version});
      session.me = await get('/me');
      const n = ctx.params.get('next');
      go(n && n.startsWith('#/') && !n.startsWith('#/guidelines') ? n : '#/');
    });
    parts.push(h('p', {}, t('guidelines.must_accept')), f);
  } else if (accepted) {
    parts.push(h('p', {class: 'ok'}, t('guidelines.accepted')));
  }
  mount(ctx.main, h('article', {class: 'narrow'}, parts));
}
