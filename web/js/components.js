// components: pieces several pages share: forms with labelled fields and error lists,
// the composer (Markdown, preview, live privacy check), author lines, pagers.
import {h, mount, nextId, trustedHtml, announce, focusOn} from './dom.js';
import {t, errorText, fieldErrorText, fmtAgo, fmtDate} from './i18n.js';
import {get, post, qs, ApiError} from './api.js';

// A labelled input. opts: {label, name, type, value, required, hint, autocomplete, ...}
export function field(opts) {
  const id = nextId(`f-${opts.name}`);
  const hintId = opts.hint ? `${id}-hint` : null;
  const errId = `${id}-err`;
  const attrs = {
    id, name: opts.name, type: opts.type || 'text', value: opts.value ?? '',
    required: opts.required || null, autocomplete: opts.autocomplete || null,
    'aria-describedby': [hintId, errId].filter(Boolean).join(' '),
    minlength: opts.minlength || null, maxlength: opts.maxlength || null,
    inputmode: opts.inputmode || null, lang: opts.lang || null,
  };
  let input;
  if (opts.type === 'textarea') {
    delete attrs.type;
    delete attrs.value;
    input = h('textarea', {...attrs, rows: opts.rows || 6});
    input.value = opts.value ?? '';
  } else if (opts.type === 'select') {
    delete attrs.type;
    delete attrs.value;
    input = h('select', attrs, opts.options.map(([v, label]) =>
      h('option', {value: v, selected: String(v) === String(opts.value ?? '') ? true : null}, label)));
  } else {
    input = h('input', attrs);
  }
  const wrap = h('div', {class: 'field', dataset: {field: opts.name}},
    h('label', {for: id}, opts.label, opts.required ? h('span', {class: 'req', 'aria-hidden': 'true'}, ' *') : null),
    hintId ? h('p', {class: 'hint', id: hintId}, opts.hint) : null,
    input,
    h('p', {class: 'field-error', id: errId}));
  wrap.input = input;
  return wrap;
}

// Shows an ApiError on a form: the field errors beside their fields, the rest on top.
export function showErrors(form, err) {
  clearErrors(form);
  const box = form.querySelector('.form-error');
  const unplaced = [];
  for (const e of (err && err.errors) || []) {
    const wrap = form.querySelector(`[data-field="${CSS.escape(e.field || '')}"]`);
    if (wrap) {
      wrap.querySelector('.field-error').textContent = fieldErrorText(e);
      wrap.input.setAttribute('aria-invalid', 'true');
    } else {
      unplaced.push(fieldErrorText(e));
    }
  }
  const first = form.querySelector('[aria-invalid="true"]');
  mount(box, errorText(err), unplaced.length ? h('ul', {}, unplaced.map((u) => h('li', {}, u))) : null);
  box.hidden = false;
  (first || box).focus();
}

export function clearErrors(form) {
  for (const p of form.querySelectorAll('.field-error')) p.textContent = '';
  for (const i of form.querySelectorAll('[aria-invalid]')) i.removeAttribute('aria-invalid');
  const box = form.querySelector('.form-error');
  if (box) {
    mount(box);
    box.hidden = true;
  }
}

// A form whose submit runs onSubmit(form) with the button disabled; an ApiError is
// shown on the form.
export function form(attrs, children, onSubmit) {
  const f = h('form', {novalidate: true, ...attrs},
    h('div', {class: 'form-error', role: 'alert', tabindex: '-1', hidden: true}), children);
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const buttons = f.querySelectorAll('button[type=submit]');
    buttons.forEach((b) => { b.disabled = true; });
    try {
      clearErrors(f);
      await onSubmit(f, ev.submitter);
    } catch (e) {
      if (e instanceof ApiError) showErrors(f, e);
      else throw e;
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  });
  return f;
}

export function author(a, when) {
  if (!a) return null;
  return h('span', {class: 'byline'},
    h('a', {href: `#/users/${a.id}`}, a.display_name),
    a.profession ? h('span', {class: 'profession'}, ` · ${t(`profession.${a.profession}`)}`) : null,
    when ? [' · ', h('time', {datetime: when, title: fmtDate(when)}, fmtAgo(when))] : null);
}

// Code-point offsets (the privacy guard's) as UTF-16 offsets (the textarea's).
function utf16(text, cp) {
  let i = 0;
  let n = 0;
  while (n < cp && i < text.length) {
    const c = text.codePointAt(i);
    i += c > 0xffff ? 2 : 1;
    n += 1;
  }
  return i;
}

// The text with the findings marked, as DOM nodes (the text stays text).
function markedText(text, findings) {
  const out = [];
  let at = 0;
  const sorted = [...findings].sort((a, b) => a.start - b.start);
  for (const f of sorted) {
    const s = utf16(text, f.start);
    const e = utf16(text, f.end);
    if (s < at) continue;
    out.push(text.slice(at, s));
    out.push(h('mark', {class: `finding ${f.severity}`}, text.slice(s, e)));
    at = e;
  }
  out.push(text.slice(at));
  return out;
}

// The composer: a Markdown text area with Write/Preview tabs and the privacy check,
// run as the member types. opts: {label, value, submitLabel, onSubmit(body, ack),
// title: a title field element whose text is checked too, onCancel}
export function composer(opts) {
  const area = field({label: opts.label || t('compose.body'), name: 'body', type: 'textarea',
    value: opts.value || '', required: true, rows: opts.rows || 8, maxlength: 50000,
    hint: t('compose.markdown_hint')});
  const textarea = area.input;
  const previewId = nextId('preview');
  const writeTab = h('button', {type: 'button', role: 'tab', 'aria-selected': 'true', class: 'tab'}, t('compose.write'));
  const previewTab = h('button', {type: 'button', role: 'tab', 'aria-selected': 'false', class: 'tab', 'aria-controls': previewId}, t('compose.preview'));
  const preview = h('div', {id: previewId, class: 'preview post-body', role: 'tabpanel', hidden: true, tabindex: '0'});
  // not a live region (it is redrawn at each pause in typing): a change of verdict is
  // announced instead
  const privacyBox = h('section', {class: 'privacy', 'aria-label': t('privacy.title')});
  const ackId = nextId('ack');
  const ack = h('input', {type: 'checkbox', id: ackId, name: 'acknowledge_privacy'});
  const ackWrap = h('p', {class: 'ack', hidden: true}, ack, ' ', h('label', {for: ackId}, t('privacy.acknowledge')));
  let worst = null;
  let timer = null;
  let seq = 0;
  let signature = '';
  let rendered = null; // {text, html}: the server's rendering of the text last checked

  const showPreview = (html) => {
    if (textarea.value.trim()) trustedHtml(preview, html);
    else mount(preview, h('p', {class: 'muted'}, t('compose.nothing')));
  };

  const renderFindings = (findings, w) => {
    if (w !== worst) announce(w === 'block' ? t('privacy.blocked_title') : w === 'warn' ? t('privacy.warn_title') : '');
    worst = w;
    // an acknowledgement covers the findings it was given for: new ones untick it
    const sig = findings.map((f) => `${f.field || 'body'}:${f.kind}:${f.start}:${f.end}`).join('|');
    if (sig !== signature) ack.checked = false;
    signature = sig;
    const text = textarea.value;
    const titleText = opts.title ? opts.title.input.value : '';
    if (!findings.length) {
      mount(privacyBox, text.trim() ? h('p', {class: 'ok'}, t('privacy.clear')) : null);
      ackWrap.hidden = true;
      ack.checked = false;
      return;
    }
    const bodyFindings = findings.filter((f) => (f.field || 'body') === 'body');
    const titleFindings = findings.filter((f) => f.field === 'title');
    mount(privacyBox,
      h('h3', {}, w === 'block' ? t('privacy.blocked_title') : t('privacy.warn_title')),
      h('p', {}, w === 'block' ? t('privacy.blocked_help') : t('privacy.warn_help')),
      h('ul', {class: 'findings'}, findings.map((f) => h('li', {class: f.severity},
        h('strong', {}, t(`privacy.kind.${f.kind}`)), ' ',
        h('span', {class: 'sev'}, `(${t(`privacy.severity.${f.severity}`)})`), ': ',
        h('q', {}, f.excerpt), ' ',
        (f.field || 'body') === 'body' ? h('button', {type: 'button', class: 'link', onclick: () => {
          textarea.focus();
          textarea.setSelectionRange(utf16(text, f.start), utf16(text, f.end));
        }}, t('privacy.select')) : null))),
      bodyFindings.length ? h('div', {class: 'marked', 'aria-label': t('privacy.in_text')},
        h('p', {class: 'hint'}, t('privacy.in_text')), h('pre', {}, markedText(text, bodyFindings))) : null,
      titleFindings.length ? h('div', {class: 'marked'},
        h('p', {class: 'hint'}, t('privacy.in_title')), h('pre', {}, markedText(titleText, titleFindings))) : null);
    ackWrap.hidden = w !== 'warn';
    if (w !== 'warn') ack.checked = false;
  };

  const check = async () => {
    const text = textarea.value;
    const titleText = opts.title ? opts.title.input.value : '';
    const mine = ++seq;
    if (!text.trim() && !titleText.trim()) {
      renderFindings([], null);
      return;
    }
    try {
      const r = await post('/preview', {body: text || ' ', title: titleText || undefined});
      if (mine !== seq) return;
      renderFindings(r.privacy.findings, r.privacy.worst);
      rendered = {text, html: r.html};
      if (!preview.hidden) showPreview(r.html);
    } catch {
      // the check is a help; the server checks again when the post is sent
    }
  };
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      check();
    }, 400);
  };
  textarea.addEventListener('input', schedule);
  if (opts.title) opts.title.input.addEventListener('input', schedule);

  const showTab = (which) => {
    const isPreview = which === 'preview';
    writeTab.setAttribute('aria-selected', String(!isPreview));
    previewTab.setAttribute('aria-selected', String(isPreview));
    area.hidden = isPreview;
    preview.hidden = !isPreview;
    if (isPreview) {
      // the last check's rendering, when the text has not changed since
      if (rendered && rendered.text === textarea.value) {
        showPreview(rendered.html);
        return;
      }
      mount(preview, h('p', {class: 'muted'}, t('common.loading')));
      post('/preview', {body: textarea.value || ' '}).then((r) => showPreview(r.html))
        .catch((e) => mount(preview, h('p', {class: 'error'}, errorText(e))));
    }
  };
  writeTab.addEventListener('click', () => showTab('write'));
  previewTab.addEventListener('click', () => showTab('preview'));
  // arrow keys move between the two tabs
  for (const tab of [writeTab, previewTab]) {
    tab.addEventListener('keydown', (ev) => {
      if (ev.key === 'ArrowRight' || ev.key === 'ArrowLeft') {
        const other = tab === writeTab ? previewTab : writeTab;
        other.focus();
        other.click();
      }
    });
  }

  const el = h('div', {class: 'composer'},
    h('div', {role: 'tablist', class: 'tabs', 'aria-label': t('compose.mode')}, writeTab, previewTab),
    area, preview, privacyBox, ackWrap);
  return {
    el,
    textarea,
    get acknowledged() {
      return ack.checked;
    },
    get worst() {
      return worst;
    },
    // a refused post's findings (422 privacy_warning / privacy_blocked)
    showRefusal(err) {
      if (err.problem && err.problem.findings) {
        showTab('write');
        renderFindings(err.problem.findings, err.code === 'privacy_blocked' ? 'block' : 'warn');
        announce(errorText(err));
        if (err.code === 'privacy_warning') ack.focus();
      }
    },
    reset() {
      seq += 1; // a check still on its way is no longer wanted
      clearTimeout(timer);
      timer = null;
      textarea.value = '';
      ack.checked = false;
      renderFindings([], null);
      showTab('write');
    },
    check,
    // runs a check still waiting for a pause in typing, before the text is sent
    async flush() {
      if (timer) {
        clearTimeout(timer);
        timer = null;
        await check();
      }
    },
  };
}

// "More" for cursor lists: calls load(cursor) and appends what it renders.
export function more(list, nextCursor, load) {
  if (!nextCursor) return null;
  const b = h('button', {type: 'button', class: 'more'}, t('common.more'));
  b.addEventListener('click', async () => {
    b.disabled = true;
    try {
      const before = list.children.length;
      const next = await load(nextCursor);
      b.replaceWith(next || '');
      // the button is gone: the first new item takes the focus
      focusOn(list.children[before] || next);
    } catch (e) {
      b.disabled = false;
      b.after(h('p', {class: 'error', role: 'alert'}, errorText(e)));
    }
  });
  return b;
}

// A member picker over the directory (GET /users?q=): a search field and the matches as
// buttons. onPick(user) is called with the chosen member. opts: {label, network, exclude}
export function memberPicker(opts) {
  const input = field({label: opts.label, name: opts.name || 'member_q', type: 'search', hint: t('picker.hint'),
    autocomplete: 'off'});
  const results = h('ul', {class: 'picker-results', 'aria-live': 'polite'});
  let timer = null;
  let seq = 0;
  const run = async () => {
    const q = input.input.value.trim();
    const mine = ++seq;
    if (q.length < 2) {
      mount(results);
      return;
    }
    try {
      const r = await get(`/users${qs({q, network: opts.network, limit: 10})}`);
      if (mine !== seq) return;
      const exclude = new Set((opts.exclude && opts.exclude()) || []);
      const found = r.items.filter((u) => !exclude.has(u.id));
      mount(results, found.length ? found.map((u) => h('li', {},
        h('button', {type: 'button', class: 'pick', onclick: () => {
          opts.onPick(u);
          input.input.value = '';
          mount(results);
          input.input.focus();
        }}, t('picker.add', {name: u.display_name}), h('span', {class: 'muted'},
          ` · @${u.handle} · ${t(`profession.${u.profession}`)}`))))
        : h('li', {class: 'muted'}, t('picker.none')));
    } catch (e) {
      mount(results, h('li', {class: 'error'}, errorText(e)));
    }
  };
  input.input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(run, 250);
  });
  // Enter searches at once rather than submitting the surrounding form
  input.input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') {
      ev.preventDefault();
      clearTimeout(timer);
      run();
    }
  });
  return h('div', {class: 'picker'}, input, results);
}
