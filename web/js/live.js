// live: Server-Sent Events (SPEC section 9). One stream for the member's notifications
// while signed in, and one for the thread on screen. A browser's EventSource gives up
// when the server answers anything but 200 (a 503 during a restart), so a closed
// stream is reopened here, after a pause, from the last event it had
// (?last_event_id=), and nothing is missed.
const RETRY_MS = 3000;

function stream(path, handlers) {
  let es = null;
  let last = null;
  let timer = null;
  let stopped = false;
  const open = () => {
    const sep = path.includes('?') ? '&' : '?';
    es = new EventSource(last ? `${path}${sep}last_event_id=${encodeURIComponent(last)}` : path);
    for (const [name, fn] of Object.entries(handlers)) {
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
    es.addEventListener('resync', () => {
      if (handlers.resync) handlers.resync();
    });
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED && !stopped) {
        es = null;
        timer = setTimeout(open, RETRY_MS);
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
let mine = null;

export const live = {
  start() {
    if (mine) return;
    mine = stream('/api/v1/events', {
      'notification.created': (n) => {
        for (const fn of noteListeners) fn(n);
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
  // handlers: {'post.created': fn, 'post.updated': fn, ...}; returns the closer
  thread(id, handlers) {
    return stream(`/api/v1/events?thread=${id}`, handlers);
  },
};
