// dom: building the page. Text always goes in as text (textContent, attribute
// values); the one way to insert HTML is trustedHtml(), kept for HTML the server's
// renderer made (post bodies, previews, search snippets, guidelines) and nothing else.

// h('a', {href: '#/x', class: 'y', onclick: fn}, 'text', child, [more])
export function h(tag, attrs, ...children) {
  const el = tag.startsWith('svg:')
    ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value' && 'value' in el) el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function mount(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

// HTML produced by the server's Markdown renderer (cmark, safe mode) or by its search
// excerpts (escaped, with <mark>): the only HTML the client ever inserts.
export function trustedHtml(el, html) {
  el.innerHTML = html || '';
  // a link is judged by where the browser would take it, not by how it is written
  // ("/\\other.example" leads to another site): other sites open in a new tab,
  // marked, and any scheme but http(s) and mailto loses its link
  for (const a of el.querySelectorAll('a[href]')) {
    // a mention links to the member's page of this client
    const mention = /^\/u\/(\d+)$/.exec(a.getAttribute('href'));
    if (a.classList.contains('mention') && mention) {
      a.setAttribute('href', `#/users/${mention[1]}`);
      continue;
    }
    let url = null;
    try {
      url = new URL(a.getAttribute('href'), location.href);
    } catch {
      url = null;
    }
    if (!url || !['http:', 'https:', 'mailto:'].includes(url.protocol)) {
      a.removeAttribute('href');
    } else if (url.origin !== location.origin) {
      a.setAttribute('rel', 'noopener noreferrer nofollow');
      a.setAttribute('target', '_blank');
    }
  }
  return el;
}

// Moves the focus to el (made focusable if it is not), for after the focused control
// was removed or redrawn.
export function focusOn(el) {
  if (!el) return;
  if (!el.matches('a[href], button, input, select, textarea, [tabindex]')) el.setAttribute('tabindex', '-1');
  el.focus();
}

let uid = 0;
export function nextId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

// Tells screen readers something happened (new posts, notifications, saved).
export function announce(text) {
  const el = document.getElementById('announce');
  el.textContent = '';
  setTimeout(() => { el.textContent = text; }, 50);
}

export function toast(text, kind = 'info') {
  const box = document.getElementById('toasts');
  const el = h('p', {class: `toast ${kind}`}, text);
  box.appendChild(el);
  setTimeout(() => el.remove(), 6000);
}
