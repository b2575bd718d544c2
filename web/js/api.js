// api: the HTTP API from the browser. The session lives in the HttpOnly cookie the
// server sets at sign-in; writes carry X-CSRF-Token, learnt at sign-in or, after a
// reload, from GET /sessions/current. Every failure becomes an ApiError carrying the
// problem's stable `code`, which the views translate.

let csrf = null;

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem.code || (status >= 500 ? 'internal_error' : 'request_failed');
    this.problem = problem;
    this.errors = problem.errors || [];
    this.retryAfter = null;
  }
}

export function setCsrf(token) {
  csrf = token;
}

export async function api(method, path, body, opts = {}) {
  try {
    return await request(method, path, body, opts);
  } catch (e) {
    // another tab signed out and in again: this one learns the new session's token once
    if (e instanceof ApiError && e.code === 'csrf_failed' && !opts.retried) {
      const s = await request('GET', '/sessions/current');
      csrf = s.csrf_token;
      return request(method, path, body, {...opts, retried: true});
    }
    throw e;
  }
}

async function request(method, path, body, {signal} = {}) {
  const headers = {Accept: 'application/json'};
  if (body !== undefined) headers['Content-Type'] = 'application/json; charset=utf-8';
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  let res;
  try {
    res = await fetch(`/api/v1${path}`, {
      method, headers, credentials: 'same-origin', signal,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, {code: 'network_error'});
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data && typeof data === 'object' ? data : {});
    err.retryAfter = res.headers.get('Retry-After');
    throw err;
  }
  return data;
}

export const get = (path, opts) => api('GET', path, undefined, opts);
export const post = (path, body) => api('POST', path, body === undefined ? {} : body);
export const patch = (path, body) => api('PATCH', path, body);
export const put = (path, body) => api('PUT', path, body);
export const del = (path) => api('DELETE', path);

// A query string from an object, leaving out empty values.
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  }
  const s = u.toString();
  return s ? `?${s}` : '';
}
