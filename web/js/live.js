// live: Server-Sent Events (SPEC section 9). One stream for the member's notifications
// while signed in, and one for the thread on screen. A browser's EventSource gives up
// when the server answers anything but 200 (a 503 during a restart), so a closed
// stream is reopened from the last event it had (?last_event_id=), and nothing is
// missed; before reopening, one plain request (probe) asks whether there is still
// something to follow: a 401, 403 or 404 (signed out, removed from the group, the
// thread deleted) ends the stream and calls handlers.gone(status); a 503 waits for its
// Retry-After.
const RETRY_MS = 3000;

function stream(path, probe, handlers) {
  let es = null;
  let last = null;
  let timer = null;
  let stopped = false;
  const later = (ms) => {
    if (!stopped) timer = setTimeout(reopen, ms);
  };
  const reopen = async () => {
    let res = null;
    try {
      res = await fetch(probe, {credentials: 'same-origin', headers: {Accept: 'application/json'}});
    } catch {
      later(RETRY_MS); // offline: try again
      return;
    }
    if (stopped) return;
    if ([401, 403, 404].includes(res.status)) {
      stopped = true;
      if (handlers.gone) handlers.gone(res.status);
      return;
    }
    if (res.status >= 500) {
      const after = Number(res.headers.get('Retry-After'));
      later(after > 0 ? after * 1000 : RETRY_MS);
      return;
    }
    open();
  };
  const open = () => {
    const sep = path.includes('?') ? '&' : '?';
    es = new EventSource(last ? `${path}${sep}last_event_id=${encodeURIComponent(last)}` : path);
    for (const [name, fn] of Object.entries(handlers)) {
      if (name === 'gone' || name === 'resync') continue;
      es.addEventListener(name, (ev) => {
        last = ev.lastEventId || last;
        let data = null;
        try {
          data = JSON.parse(ev.data);
        } catch {
          return;
        }
        fn(data);
      });
    }
    // events were pruned past our resume point: start again from now, and redraw
    es.addEventListener('resync', (ev) => {
      last = ev.lastEventId || last;
      if (handlers.resync) handlers.resync();
    });
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED && !stopped) {
        es = null;
        later(RETRY_MS);
      }
    };
  };
  open();
  return () => {
    stopped = true;
    clearTimeout(timer);
    if (es) es.close();
  };
}

const noteListeners = new Set();
const resyncListeners = new Set();
let mine = null;

export const live = {
  start() {
    if (mine) return;
    mine = stream('/api/v1/events', '/api/v1/me', {
      'notification.created': (n) => {
        for (const fn of noteListeners) fn(n);
      },
      resync: () => {
        for (const fn of resyncListeners) fn();
      },
      gone: () => {
        mine = null;
      },
    });
  },
  stop() {
    if (mine) mine();
    mine = null;
  },
  // fn(notification) for each new notification; returns the function that stops it
  onNotification(fn) {
    noteListeners.add(fn);
    return () => noteListeners.delete(fn);
  },
  // fn() when notifications may have been missed (the count is to be read again)
  onResync(fn) {
    resyncListeners.add(fn);
    return () => resyncListeners.delete(fn);
  },
  // handlers: {'post.created': fn, ..., resync: fn, gone: fn}; returns the closer
  thread(id, handlers) {
    return stream(`/api/v1/events?thread=${id}`, `/api/v1/threads/${id}?limit=1`, handlers);
  },
};
