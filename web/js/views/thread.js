// A thread: its posts in order or as a tree, replying with the composer, editing with
// conflict handling, reactions, bookmarks, the subscription, an accepted answer, and
// new posts arriving live.
import {h, mount, trustedHtml, announce, toast, focusOn} from '../dom.js';
import {t, loc, errorText, fmtNumber} from '../i18n.js';
import {get, post, patch, put, del, qs, ApiError} from '../api.js';
import {composer, author, form, more, field} from '../components.js';
import {live} from '../live.js';
import {redraw} from '../app.js';

// The caller's role in the thread's group, when it is in one.
function groupRoleOf(me, th) {
  if (!me || !th.space || th.space.type !== 'group') return null;
  const g = (me.groups || []).find((x) => x.id === th.space.id);
  return g ? g.role : null;
}

export async function thread(ctx) {
  const id = Number(ctx.args[0]);
  const order = ctx.params.get('order') === 'tree' ? 'tree' : 'chronological';
  // the stream opens before the thread is read, and its events wait until the page is
  // drawn, so that nothing posted meanwhile is missed (a post already shown is skipped)
  const waiting = [];
  let apply = null;
  const queued = (name) => (x) => (apply ? apply(name, x) : waiting.push([name, x]));
  const stop = live.thread(id, {
    'post.created': queued('post.created'), 'post.updated': queued('post.updated'),
    'post.hidden': queued('post.hidden'), 'thread.updated': queued('thread.updated'),
    resync: redraw,
    gone: () => announce(t('thread.gone')),
  });
  ctx.onLeave(stop);
  const data = await get(`/threads/${id}${qs({order})}`);
  const th = data.thread;
  ctx.title(th.title);
  const me = ctx.me;
  const byId = new Map();
  const staff = me && ['moderator', 'admin', 'coordinator'].includes(me.site_role);
  const groupRole = groupRoleOf(me, th);
  // who may hide a post: those who moderate the thread, and a group's mentors (the
  // server has the last word: a refusal is shown)
  const mayHide = th.space && th.space.type !== 'conversation' && (staff || groupRole === 'mentor');
  const mayModerate = th.space && th.space.type !== 'conversation' && staff;
  // who may accept an answer: the author, those who moderate, a mentor (of the group,
  // in a group; of any group, in the forum)
  const mentorAnywhere = me && (me.groups || []).some((g) => g.role === 'mentor');
  const mayAccept = () => th.kind === 'question' && me && ((th.author && th.author.id === me.id) || mayModerate
    || (th.space.type === 'group' ? groupRole === 'mentor' : th.space.type === 'category' && mentorAnywhere));
  const list = h('ol', {class: `posts ${order}`, 'aria-label': t('thread.posts_label')});
  let replyTo = null;

  const space = th.space || {};
  let crumbs = h('a', {href: '#/'}, t('forum.title'));
  if (space.type === 'category') {
    const cats = await get('/categories');
    const cat = cats.items.find((c) => c.id === space.id);
    if (cat) crumbs = [crumbs, ' › ', h('a', {href: `#/c/${cat.slug}`}, loc(cat.name))];
  } else if (space.type === 'group') {
    crumbs = h('a', {href: `#/groups/${space.id}`}, t('nav.groups'));
  } else if (space.type === 'conversation') {
    crumbs = h('a', {href: '#/conversations'}, t('nav.conversations'));
  }

  const reactionButton = (p, name) => {
    const mine = (p.my_reactions || []).includes(name);
    const count = (p.reactions && p.reactions[name]) || 0;
    const own = me && p.author && p.author.id === me.id;
    return h('button', {type: 'button', class: 'reaction', 'aria-pressed': String(mine), disabled: own || null,
      title: own ? t('post.own_reaction') : null,
      onclick: async (ev) => {
        const b = ev.currentTarget;
        try {
          const updated = mine ? await del(`/posts/${p.id}/reactions/${name}`) : await put(`/posts/${p.id}/reactions/${name}`);
          const next = updated && updated.id ? updated : await get(`/posts/${p.id}`);
          replacePost(next);
          const again = document.querySelector(`#post-${p.id} .reaction[data-name="${name}"]`);
          if (again) again.focus();
        } catch (e) {
          toast(errorText(e), 'error');
          b.focus();
        }
      }, dataset: {name}}, t(`post.reaction.${name}`), ' ', h('span', {class: 'count'}, fmtNumber(count)));
  };

  const renderPost = (p) => {
    const visible = p.body_html !== null && p.body_html !== undefined;
    const body = h('div', {class: 'post-body'});
    if (visible) trustedHtml(body, p.body_html);
    else body.appendChild(h('p', {class: 'placeholder'}, p.state === 'deleted' ? t('post.deleted') : t('post.hidden')));
    const actions = h('div', {class: 'post-actions'});
    if (p.state === 'visible') {
      actions.append(reactionButton(p, 'helpful'), reactionButton(p, 'thanks'),
        h('button', {type: 'button', class: 'link', 'aria-pressed': String(!!p.bookmarked), onclick: async () => {
          try {
            if (p.bookmarked) await del(`/posts/${p.id}/bookmark`);
            else await put(`/posts/${p.id}/bookmark`);
            p.bookmarked = !p.bookmarked;
            announce(p.bookmarked ? t('post.bookmarked') : t('post.unbookmarked'));
            replacePost(p);
            document.querySelector(`#post-${p.id} .bookmark`)?.focus();
          } catch (e) {
            toast(errorText(e), 'error');
          }
        }, class: 'link bookmark'}, p.bookmarked ? t('post.unbookmark') : t('post.bookmark')));
      if (!th.locked) {
        actions.append(h('button', {type: 'button', class: 'link', onclick: () => startReply(p)}, t('post.reply')));
      }
      if (!(me && p.author && p.author.id === me.id)) {
        actions.append(h('button', {type: 'button', class: 'link', onclick: (ev) => openFlag(p, ev.currentTarget)}, t('post.flag')));
      }
      if (p.number !== 1 && mayAccept()) {
        const accepted = th.accepted_post_id === p.id;
        actions.append(h('button', {type: 'button', class: 'link accept', onclick: async () => {
          try {
            const r = accepted ? await del(`/threads/${th.id}/answer`) : await post(`/threads/${th.id}/answer`, {post_id: p.id});
            Object.assign(th, r && r.id ? r : {accepted_post_id: accepted ? null : p.id});
            announce(accepted ? t('post.unaccepted') : t('post.accepted'));
            for (const q of [...byId.values()]) replacePost(q);
            focusOn(document.querySelector(`#post-${p.id} .accept`));
          } catch (e) {
            toast(errorText(e), 'error');
          }
        }}, accepted ? t('post.unaccept') : t('post.accept')));
      }
    }
    // the author edits a post, hidden ones too (an edit sends it back for review)
    if (p.state !== 'deleted' && me && p.author && p.author.id === me.id) {
      actions.append(h('button', {type: 'button', class: 'link', onclick: () => startEdit(p)}, t('post.edit')));
    }
    if (p.state !== 'deleted') {
      const own = me && p.author && p.author.id === me.id;
      if (own || mayModerate) {
        actions.append(h('button', {type: 'button', class: 'link', onclick: (ev) => deletePost(p, ev.currentTarget)}, t('post.delete')));
      }
      if (mayHide) {
        actions.append(h('button', {type: 'button', class: 'link', onclick: (ev) => openHide(p, ev.currentTarget)},
          p.state === 'hidden' ? t('post.unhide') : t('post.hide')));
      }
      if (own || mayModerate) {
        actions.append(h('button', {type: 'button', class: 'link', onclick: (ev) => showHistory(p, ev.currentTarget)}, t('post.history')));
      }
    }
    const accepted = th.accepted_post_id === p.id;
    const li = h('li', {id: `post-${p.id}`, class: `post depth-${Math.min(p.depth || 0, 8)}${accepted ? ' accepted' : ''}`,
      dataset: {id: p.id}},
      h('article', {'aria-labelledby': `post-${p.id}-h`},
        h('header', {class: 'post-head'},
          h('h2', {class: 'visually-hidden', id: `post-${p.id}-h`}, t('post.by', {name: p.author ? p.author.display_name : ''})),
          author(p.author, p.created_at),
          p.edited_at ? h('span', {class: 'muted'}, ` · ${t('post.edited')}`) : null,
          p.reply_to && order === 'chronological' && byId.has(p.reply_to)
            ? h('a', {class: 'muted in-reply', href: `#/threads/${th.id}?post=${p.reply_to}`, onclick: (ev) => {
              ev.preventDefault();
              document.getElementById(`post-${p.reply_to}`)?.scrollIntoView();
            }}, ` · ${t('post.in_reply_to', {name: byId.get(p.reply_to).author?.display_name || ''})}`) : null,
          accepted ? h('span', {class: 'pill accepted'}, t('post.accepted_answer')) : null),
        body, actions));
    return li;
  };

  const editing = new Set(); // posts whose edit form is open: a live update waits
  const replacePost = (p) => {
    const old = byId.get(p.id);
    if (!old) return; // not on the page (a later page not loaded yet): it comes with it
    if (old && p.my_reactions === undefined) p.my_reactions = old.my_reactions;
    if (old && p.bookmarked === undefined) p.bookmarked = old.bookmarked;
    byId.set(p.id, {...old, ...p});
    if (editing.has(p.id)) return;
    const el = document.getElementById(`post-${p.id}`);
    if (el) el.replaceWith(renderPost(byId.get(p.id)));
  };
  const endEdit = (id) => {
    editing.delete(id);
    replacePost(byId.get(id));
  };

  const addPost = (p) => {
    if (byId.has(p.id)) return;
    byId.set(p.id, p);
    const li = renderPost(p);
    if (order === 'tree' && p.reply_to && byId.has(p.reply_to)) {
      // after the parent's last descendant
      let anchor = list.querySelector(`#post-${p.reply_to}`); // not yet in the page on first render
      let next = anchor && anchor.nextElementSibling;
      const parentDepth = byId.get(p.reply_to).depth || 0;
      while (next && (byId.get(Number(next.dataset.id))?.depth || 0) > parentDepth) {
        anchor = next;
        next = next.nextElementSibling;
      }
      anchor.after(li);
    } else {
      list.appendChild(li);
    }
  };

  for (const p of data.posts) addPost(p);

  // a small form under a post's actions, replacing any other open one
  const inline = (button, children, submitLabel, onSubmit) => {
    const actions = button.closest('.post-actions');
    actions.parentElement.querySelector('.inline-form')?.remove();
    const postId = button.closest('.post')?.dataset.id;
    const f = form({class: 'inline-form'}, [children, h('div', {class: 'actions'},
      h('button', {type: 'submit', class: 'primary'}, submitLabel),
      h('button', {type: 'button', onclick: () => {
        f.remove();
        button.focus();
      }}, t('common.cancel')))], async () => {
      await onSubmit();
      f.remove();
      // the post may have been drawn again: its article takes the focus
      focusOn(document.querySelector(`#post-${postId} article`));
    });
    actions.after(f);
    f.querySelector('select, input, textarea')?.focus();
  };
  const openFlag = (p, button) => {
    const reason = field({label: t('flag.reason'), name: 'reason', type: 'select', required: true, value: '',
      options: [['', t('field.choose')], ...['privacy', 'disrespectful', 'clinical_safety', 'spam', 'off_topic', 'other']
        .map((r) => [r, t(`flag.reason.${r}`)])]});
    const note = field({label: t('flag.note'), name: 'note', maxlength: 1000, hint: t('flag.note_hint')});
    inline(button, [h('p', {}, t('flag.intro')), reason, note], t('flag.send'), async () => {
      await post(`/posts/${p.id}/flags`, {reason: reason.input.value || undefined, note: note.input.value});
      announce(t('flag.sent'));
      toast(t('flag.sent'));
      const fresh = await get(`/posts/${p.id}`);
      replacePost(fresh);
    });
  };
  const openHide = (p, button) => {
    const reason = field({label: t('moderation.reason'), name: 'reason', required: true, minlength: 3, maxlength: 500});
    const hiding = p.state !== 'hidden';
    inline(button, [reason], hiding ? t('post.hide') : t('post.unhide'), async () => {
      const updated = await post(`/posts/${p.id}/${hiding ? 'hide' : 'unhide'}`, {reason: reason.input.value.trim()});
      replacePost(updated);
      announce(hiding ? t('post.was_hidden') : t('post.was_shown'));
    });
  };
  const deletePost = async (p, button) => {
    const own = me && p.author && p.author.id === me.id;
    const done = async (reason) => {
      await del(`/posts/${p.id}${qs({reason})}`);
      if (p.number === 1) {
        location.hash = '#/';
        return;
      }
      replacePost({...byId.get(p.id), state: 'deleted', body: null, body_html: null});
      announce(t('post.was_deleted'));
    };
    if (own) {
      if (!window.confirm(p.number === 1 ? t('post.delete_thread_confirm') : t('post.delete_confirm'))) return;
      try {
        await done();
        focusOn(document.querySelector(`#post-${p.id} article`));
      } catch (e) {
        toast(errorText(e), 'error');
      }
      return;
    }
    // someone else's post: the reason goes to the moderation log
    const reason = field({label: t('moderation.reason'), name: 'reason', required: true, minlength: 3, maxlength: 500});
    inline(button, [p.number === 1 ? h('p', {}, t('post.delete_thread_confirm')) : null, reason], t('post.delete'),
      () => done(reason.input.value.trim()));
  };
  const showHistory = async (p, button) => {
    const li = button.closest('article');
    li.querySelector('.history')?.remove();
    try {
      const r = await get(`/posts/${p.id}/revisions`);
      const box = h('section', {class: 'history', 'aria-label': t('post.history')},
        h('h3', {}, t('post.history')),
        h('ol', {}, r.items.map((v) => {
          const body = h('div', {class: 'post-body'});
          if (v.body_html) trustedHtml(body, v.body_html);
          else body.appendChild(h('p', {class: 'placeholder'}, t('post.redacted')));
          const li = h('li', {}, h('p', {class: 'muted'}, t('post.version', {n: v.version}), ' · ', author(v.editor, v.created_at)),
            v.title ? h('p', {}, h('strong', {}, v.title)) : null, body);
          // a moderator removes an earlier version's text for good (logged)
          if (mayModerate && !v.redacted && v.version !== p.version) {
            const reason = field({label: t('moderation.reason'), name: 'reason', required: true, minlength: 3, maxlength: 500});
            li.appendChild(h('details', {}, h('summary', {}, t('post.redact', {n: v.version})),
              form({}, [h('p', {}, t('post.redact_help')), reason, h('button', {type: 'submit'}, t('post.redact', {n: v.version}))], async () => {
                await post(`/posts/${p.id}/revisions/${v.version}/redact`, {reason: reason.input.value.trim()});
                announce(t('post.was_redacted'));
                mount(body, h('p', {class: 'placeholder'}, t('post.redacted')));
                li.querySelector('details').remove();
                focusOn(body);
              })));
          }
          return li;
        })),
        h('button', {type: 'button', onclick: () => {
          box.remove();
          button.focus();
        }}, t('common.close')));
      li.appendChild(box);
      box.querySelector('h3').setAttribute('tabindex', '-1');
      box.querySelector('h3').focus();
    } catch (e) {
      toast(errorText(e), 'error');
    }
  };

  // replying
  const replyNote = h('p', {class: 'replying', hidden: true});
  const c = composer({label: t('compose.reply_label')});
  const replyForm = form({'aria-labelledby': 'reply-h', class: 'reply-form'}, [replyNote, c.el,
    h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'}, t('compose.send_reply')))], async () => {
    await c.flush();
    try {
      const p = await post(`/threads/${th.id}/posts`, {body: c.textarea.value,
        reply_to: replyTo || undefined, acknowledge_privacy: c.acknowledged});
      addPost({...p, my_reactions: p.my_reactions || []});
      c.reset();
      replyTo = null;
      replyNote.hidden = true;
      announce(t('compose.sent'));
      markRead(p.id);
      document.getElementById(`post-${p.id}`)?.scrollIntoView({block: 'nearest'});
    } catch (e) {
      c.showRefusal(e);
      throw e;
    }
  });
  const startReply = (p) => {
    replyTo = p.id;
    mount(replyNote, t('compose.replying_to', {name: p.author ? p.author.display_name : ''}), ' ',
      h('button', {type: 'button', class: 'link', onclick: () => {
        replyTo = null;
        replyNote.hidden = true;
      }}, t('common.cancel')));
    replyNote.hidden = false;
    c.textarea.focus();
  };

  // editing a post in place; a stale version shows the current text beside the draft
  const startEdit = (p) => {
    const li = document.getElementById(`post-${p.id}`);
    const ed = composer({label: t('post.edit_label'), value: p.body || ''});
    let version = p.version;
    const conflict = h('div', {class: 'conflict', hidden: true, role: 'alert'});
    const f = form({class: 'edit-form'}, [conflict, ed.el, h('div', {class: 'actions'},
      h('button', {type: 'submit', class: 'primary'}, t('post.save')),
      h('button', {type: 'button', onclick: () => endEdit(p.id)}, t('common.cancel')))], async () => {
      await ed.flush();
      try {
        const updated = await patch(`/posts/${p.id}`, {body: ed.textarea.value, version, acknowledge_privacy: ed.acknowledged});
        editing.delete(p.id);
        replacePost(updated);
        announce(t('post.saved'));
        document.querySelector(`#post-${p.id} .post-actions button`)?.focus();
      } catch (e) {
        if (e instanceof ApiError && e.code === 'edit_conflict' && e.problem.post) {
          const cur = e.problem.post;
          version = cur.version;
          const theirs = h('div', {class: 'post-body'});
          trustedHtml(theirs, cur.body_html);
          mount(conflict, h('h3', {}, t('post.conflict_title')), h('p', {}, t('post.conflict_help')), theirs);
          conflict.hidden = false;
          conflict.focus?.();
          throw e;
        }
        ed.showRefusal(e);
        throw e;
      }
    });
    editing.add(p.id);
    mount(li, f);
    ed.textarea.focus();
  };

  // reading state: the newest post seen
  const markRead = (postId) => {
    post(`/threads/${th.id}/read`, {post_id: postId}).catch(() => {});
  };
  if (data.posts.length) markRead(Math.max(...data.posts.map((p) => p.id)));

  let nextCursor = data.next_cursor;
  const pending = () => !!nextCursor; // pages not loaded yet
  const load = async (cursor) => {
    const page = await get(`/threads/${th.id}${qs({order, cursor})}`);
    for (const p of page.posts) addPost(p);
    if (page.posts.length) markRead(Math.max(...page.posts.map((p) => p.id)));
    nextCursor = page.next_cursor;
    return more(list, page.next_cursor, load);
  };

  const subscription = h('select', {id: 'sub-level', onchange: async (ev) => {
    try {
      await put(`/threads/${th.id}/subscription`, {level: ev.target.value});
      announce(t('thread.subscription_saved'));
    } catch (e) {
      toast(errorText(e), 'error');
    }
  }}, ['watching', 'normal', 'muted'].map((l) => h('option', {value: l, selected: (th.subscription || 'normal') === l ? true : null},
    t(`thread.subscription.${l}`))));

  const editThread = (button) => {
    const title = field({label: t('field.title'), name: 'title', value: th.title, required: true, maxlength: 200});
    const tags = field({label: t('field.tags'), name: 'tags', value: (th.tags || []).join(' '), hint: t('compose.tags_hint')});
    const kind = field({label: t('field.kind'), name: 'kind', type: 'select', value: th.kind,
      options: ['discussion', 'case', 'question'].map((k) => [k, t(`thread.kind.${k}`)])});
    const status = field({label: t('thread.status'), name: 'status', type: 'select', value: th.status,
      options: ['open', 'resolved', 'closed'].map((k) => [k, t(`thread.status.${k}`)])});
    const mine = me && th.author && th.author.id === me.id;
    const pin = h('input', {type: 'checkbox', id: 'th-pinned', checked: th.pinned});
    const lock = h('input', {type: 'checkbox', id: 'th-locked', checked: th.locked});
    const reason = field({label: t('moderation.reason'), name: 'reason', maxlength: 500, hint: t('thread.reason_hint')});
    const modFields = mayModerate ? h('fieldset', {}, h('legend', {}, t('thread.moderation')),
      h('p', {}, pin, h('label', {for: 'th-pinned'}, t('thread.pinned'))),
      h('p', {}, lock, h('label', {for: 'th-locked'}, t('thread.locked'))), mine ? null : reason) : null;
    // a title the privacy guard warns about needs the same acknowledgement as a post
    const ack = h('input', {type: 'checkbox', id: 'th-ack'});
    const ackBox = h('p', {class: 'ack', hidden: true}, ack, ' ', h('label', {for: 'th-ack'}, t('privacy.acknowledge')));
    const findings = h('ul', {class: 'findings'});
    const f = form({class: 'thread-edit'}, [mine ? [title, tags, kind, status] : null, modFields, findings, ackBox,
      h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'}, t('post.save')),
        h('button', {type: 'button', onclick: () => {
          f.remove();
          button.hidden = false;
          button.focus();
        }}, t('common.cancel')))], async () => {
      const body = {};
      if (mine) {
        Object.assign(body, {title: title.input.value.trim(), kind: kind.input.value, status: status.input.value,
          tags: tags.input.value.split(/[\s,]+/).map((x) => x.trim().toLowerCase()).filter(Boolean)});
      }
      if (mayModerate) Object.assign(body, {pinned: pin.checked, locked: lock.checked});
      if (mayModerate && !mine && reason.input.value.trim()) body.reason = reason.input.value.trim();
      if (!ackBox.hidden) body.acknowledge_privacy = ack.checked;
      try {
        await patch(`/threads/${th.id}`, body);
      } catch (e) {
        if (e instanceof ApiError && e.problem.findings) {
          mount(findings, e.problem.findings.map((x) => h('li', {class: x.severity},
            h('strong', {}, t(`privacy.kind.${x.kind}`)), ': ', h('q', {}, x.excerpt))));
          ackBox.hidden = e.code !== 'privacy_warning';
        }
        throw e;
      }
      announce(t('thread.saved'));
      redraw();
    });
    button.hidden = true;
    button.after(f);
    f.querySelector('input, select')?.focus();
  };
  const mayEditThread = (me && th.author && th.author.id === me.id) || mayModerate;
  const editButton = mayEditThread ? h('button', {type: 'button', class: 'link', onclick: (ev) => editThread(ev.currentTarget)}, t('thread.edit')) : null;

  const orderLinks = h('nav', {class: 'sorts', 'aria-label': t('thread.order')},
    h('a', {href: `#/threads/${th.id}`, 'aria-current': order === 'chronological' ? 'true' : null}, t('thread.order.chronological')),
    h('a', {href: `#/threads/${th.id}?order=tree`, 'aria-current': order === 'tree' ? 'true' : null}, t('thread.order.tree')));

  mount(ctx.main,
    h('p', {class: 'crumbs'}, crumbs),
    h('h1', {}, th.title),
    h('p', {class: 'thread-meta'},
      h('span', {class: `pill kind-${th.kind}`}, t(`thread.kind.${th.kind}`)),
      h('span', {class: 'pill'}, t(`thread.status.${th.status}`)),
      th.locked ? h('span', {class: 'pill'}, t('thread.locked')) : null,
      (th.tags || []).map((tag) => h('span', {class: 'tag'}, tag)),
      th.space?.type === 'conversation' && th.participants
        ? h('span', {class: 'muted'}, t('thread.participants', {names: th.participants.map((u) => u.display_name).join(', ')})) : null),
    editButton,
    h('div', {class: 'thread-tools'}, orderLinks,
      h('p', {}, h('label', {for: 'sub-level'}, t('thread.subscription')), ' ', subscription)),
    list,
    more(list, data.next_cursor, load),
    th.locked ? h('p', {class: 'muted'}, t('thread.locked_help'))
      : h('section', {'aria-labelledby': 'reply-h'}, h('h2', {id: 'reply-h'}, t('compose.reply_title')), replyForm));

  const focusPost = ctx.params.get('post');
  if (focusPost) ctx.afterShow(() => document.getElementById(`post-${focusPost}`)?.scrollIntoView());

  // live: new posts, edits, hidden posts
  const handlers = {
    'post.created': (p) => {
      if (byId.has(p.id)) return;
      announce(t('thread.new_post', {name: p.author ? p.author.display_name : ''}));
      // with pages still to load, the new post comes at their end, in its place
      if (!pending()) addPost({...p, my_reactions: []});
    },
    'post.updated': (p) => replacePost(p),
    'post.hidden': (p) => replacePost(p),
    'thread.updated': (x) => {
      const changed = (x.locked !== undefined && x.locked !== th.locked) || (x.title && x.title !== th.title)
        || x.deleted === true;
      Object.assign(th, x);
      if (!changed) return;
      announce(t('thread.changed'));
      // drawn again with the change, unless the member is writing a reply or an edit
      if (!c.textarea.value.trim() && editing.size === 0) redraw();
    },
  };
  apply = (name, x) => handlers[name](x);
  for (const [name, x] of waiting.splice(0)) apply(name, x);
}
