// i18n: every string the client shows, in English and French (strings.js), and the
// dates and numbers in the reader's language. t('key', {name}) fills {name}; a key
// ending in _one/_other is picked by t.n('key', count).
import {strings} from './strings.js';

let current = 'en';
const listeners = [];

export function locale() {
  return current;
}

// quiet: the page will be drawn anyway (at boot, at sign-in), so listeners are not told.
export function setLocale(l, {quiet = false} = {}) {
  current = l === 'fr' ? 'fr' : 'en';
  document.documentElement.lang = current;
  try {
    localStorage.setItem('confer.locale', current);
  } catch {
    // private browsing: the choice lasts for the page only
  }
  if (!quiet) for (const fn of listeners) fn(current);
}

export function onLocaleChange(fn) {
  listeners.push(fn);
}

export function initialLocale() {
  let saved = null;
  try {
    saved = localStorage.getItem('confer.locale');
  } catch {
    saved = null;
  }
  if (saved === 'en' || saved === 'fr') return saved;
  return (navigator.language || 'en').toLowerCase().startsWith('fr') ? 'fr' : 'en';
}

export function t(key, vars) {
  const table = strings[current];
  let s = table[key];
  if (s === undefined) s = strings.en[key];
  if (s === undefined) return key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

t.n = (key, count, vars) => {
  const rule = new Intl.PluralRules(current === 'fr' ? 'fr-CA' : 'en-CA').select(count);
  const k = `${key}_${rule === 'one' ? 'one' : 'other'}`;
  return t(k, {count: fmtNumber(count), ...vars});
};

// A problem's code as the reader's words; the server's detail when the code is new.
export function errorText(err) {
  const code = err && err.code;
  const k = `error.${code}`;
  if (code && (k in strings[current] || k in strings.en)) return t(k);
  return (err && err.message) || t('error.internal_error');
}

// A field error ({field, code}) as the reader's words.
export function fieldErrorText(e) {
  const k = `field_error.${e.code}`;
  if (k in strings.en) return t(k);
  return e.message || e.code;
}

const tag = () => (current === 'fr' ? 'fr-CA' : 'en-CA');

export function fmtNumber(n) {
  return new Intl.NumberFormat(tag()).format(n);
}

// 0.873 -> "87.3%" / "87,3 %"
export function fmtPercent(share) {
  return new Intl.NumberFormat(tag(), {style: 'percent', maximumFractionDigits: 1}).format(share);
}

export function fmtDate(iso, opts = {dateStyle: 'medium', timeStyle: 'short'}) {
  if (!iso) return '';
  return new Intl.DateTimeFormat(tag(), opts).format(new Date(iso));
}

// "5 minutes ago", "il y a 5 minutes"
export function fmtAgo(iso) {
  if (!iso) return '';
  const s = (Date.parse(iso) - Date.now()) / 1000;
  const rtf = new Intl.RelativeTimeFormat(tag(), {numeric: 'auto'});
  const a = Math.abs(s);
  if (a < 60) return rtf.format(Math.round(s), 'second');
  if (a < 3600) return rtf.format(Math.round(s / 60), 'minute');
  if (a < 86400) return rtf.format(Math.round(s / 3600), 'hour');
  if (a < 86400 * 30) return rtf.format(Math.round(s / 86400), 'day');
  return fmtDate(iso, {dateStyle: 'medium'});
}

// A {en, fr} object in the reader's language.
export function loc(o) {
  if (!o) return '';
  if (typeof o === 'string') return o;
  return o[current] || o.en || o.fr || '';
}
