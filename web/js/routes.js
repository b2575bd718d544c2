// routes: the fragment paths (#/...) and the page each one draws. public pages need no
// session; beforeGuidelines pages are open before the guidelines are accepted.
import * as account from './views/account.js';
import * as forum from './views/forum.js';
import {thread} from './views/thread.js';
import * as activity from './views/activity.js';
import * as people from './views/people.js';
import * as groups from './views/groups.js';
import * as conversations from './views/conversations.js';
import * as moderation from './views/moderation.js';
import * as admin from './views/admin.js';
import {site} from './views/site.js';

export const routes = [
  {pattern: /^\/signin$/, view: account.signin, public: true},
  {pattern: /^\/signup$/, view: account.signup, public: true},
  {pattern: /^\/guidelines$/, view: account.guidelines, beforeGuidelines: true},
  {pattern: /^\/?$/, view: forum.home},
  {pattern: /^\/c\/([a-z0-9-]+)$/, view: forum.category},
  {pattern: /^\/new$/, view: forum.newThread},
  {pattern: /^\/threads\/(\d+)$/, view: thread},
  {pattern: /^\/notifications$/, view: activity.notifications, beforeGuidelines: true},
  {pattern: /^\/bookmarks$/, view: activity.bookmarks},
  {pattern: /^\/search$/, view: activity.search},
  {pattern: /^\/users\/(\d+)$/, view: people.profile},
  {pattern: /^\/settings$/, view: people.settings, beforeGuidelines: true},
  {pattern: /^\/groups$/, view: groups.groups},
  {pattern: /^\/groups\/new$/, view: groups.newGroup},
  {pattern: /^\/groups\/(\d+)$/, view: groups.group},
  {pattern: /^\/conversations$/, view: conversations.conversations},
  {pattern: /^\/conversations\/new$/, view: conversations.newConversation},
  {pattern: /^\/moderation$/, view: moderation.queue},
  {pattern: /^\/moderation\/log$/, view: moderation.log},
  {pattern: /^\/responses$/, view: admin.responses, beforeGuidelines: true},
  {pattern: /^\/reports$/, view: admin.reports},
  {pattern: /^\/invite$/, view: admin.invite},
  {pattern: /^\/admin$/, view: site},
];

// Whether a fragment (#/groups) has a page yet: the navigation shows only those.
export function routed(hash) {
  const path = hash.slice(1).split('?')[0];
  return routes.some((r) => r.pattern.test(path));
}
