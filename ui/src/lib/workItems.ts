// Work-item logic the pane and the reading pane's strip share, free of Svelte
// so it is unit-tested on its own: the filter and search query, grouping by
// state (in the process's usual order), labels for edits, links and fields,
// and the sandboxed document a comment's sanitised HTML is shown in.
import type { LinkedWorkItem } from '../bindings/LinkedWorkItem';
import type { RenderedBody } from '../bindings/RenderedBody';
import type { WorkItem } from '../bindings/WorkItem';
import type { WorkItemEdit } from '../bindings/WorkItemEdit';
import type { WorkItemQuery } from '../bindings/WorkItemQuery';

/** The most rows the pane asks for (the service caps it too). */
export const WORK_ITEM_LIMIT = 500;

/** Why an item is synced, as the filter offers it; null is every item. */
export type Membership = 'assigned' | 'mentioned' | 'created' | 'followed' | null;

export const MEMBERSHIPS: readonly { id: Membership; label: string }[] = [
  { id: null, label: 'All' },
  { id: 'assigned', label: 'Assigned to me' },
  { id: 'mentioned', label: 'Mentioned' },
  { id: 'created', label: 'Created' },
  { id: 'followed', label: 'Followed' },
];

export interface WorkItemFilter {
  membership: Membership;
  /** The search box's text, sent as typed (Rust parses `type:`, `state:`, `assigned:`). */
  text: string;
  accountId?: number | null;
}

/** The list_work_items query for a filter: blank text is no search at all. */
export function workItemQuery(filter: WorkItemFilter, limit = WORK_ITEM_LIMIT): WorkItemQuery {
  const text = filter.text.trim();
  return {
    accountId: filter.accountId ?? null,
    membership: filter.membership,
    search: text === '' ? null : text,
    limit,
  };
}

/**
 * States across the Agile, Scrum, Basic and CMMI processes in the order work
 * moves through them; states a custom process adds sort with the work in
 * progress, by name.
 */
const STATE_ORDER = [
  'new',
  'proposed',
  'to do',
  'approved',
  'committed',
  'active',
  'in progress',
  'doing',
  'resolved',
  'done',
  'closed',
  'completed',
  'removed',
];
const UNKNOWN_RANK = STATE_ORDER.indexOf('doing') + 0.5;

export function stateRank(state: string): number {
  const i = STATE_ORDER.indexOf(state.trim().toLowerCase());
  return i < 0 ? UNKNOWN_RANK : i;
}

/** Colour family of a state: not started, under way, resolved, finished, or taken out. */
export type StateTone = 'proposed' | 'active' | 'resolved' | 'done' | 'removed';

export function stateTone(state: string): StateTone {
  const s = state.trim().toLowerCase();
  if (['new', 'proposed', 'to do', 'approved'].includes(s)) return 'proposed';
  if (s === 'resolved') return 'resolved';
  if (['done', 'closed', 'completed'].includes(s)) return 'done';
  if (s === 'removed') return 'removed';
  return 'active';
}

export interface StateGroup {
  state: string;
  items: WorkItem[];
}

/**
 * Items grouped by state, the groups in process order; inside a group the
 * order the list came in (most recently changed first) is kept. States that
 * differ only in case are one group, named as first seen.
 */
export function groupByState(items: readonly WorkItem[]): StateGroup[] {
  const groups = new Map<string, StateGroup>();
  for (const item of items) {
    const key = item.state.trim().toLowerCase();
    let group = groups.get(key);
    if (!group) {
      group = { state: item.state.trim() || 'No state', items: [] };
      groups.set(key, group);
    }
    group.items.push(item);
  }
  return [...groups.values()].sort(
    (a, b) => stateRank(a.state) - stateRank(b.state) || a.state.localeCompare(b.state),
  );
}

/** One line of the virtualised list: a group's header or an item (with its place among the items). */
export type WorkItemRow =
  | { kind: 'group'; key: string; state: string; count: number }
  | { kind: 'item'; key: number; item: WorkItem; position: number };

export function workItemRows(groups: readonly StateGroup[]): WorkItemRow[] {
  const rows: WorkItemRow[] = [];
  let position = 0;
  for (const g of groups) {
    rows.push({ kind: 'group', key: `group:${g.state}`, state: g.state, count: g.items.length });
    for (const item of g.items) rows.push({ kind: 'item', key: item.id, item, position: position++ });
  }
  return rows;
}

/** The items in the order the grouped list shows them (what j/k walk through). */
export function itemsInListOrder(groups: readonly StateGroup[]): WorkItem[] {
  return groups.flatMap((g) => g.items);
}

/** "Bug 4101". */
export function itemLabel(item: Pick<WorkItem, 'itemType' | 'itemId'>): string {
  return `${item.itemType} ${item.itemId}`;
}

/** A work item type's colour family, as Azure DevOps paints them. */
export function typeTone(itemType: string): string {
  const t = itemType.trim().toLowerCase();
  if (t === 'bug' || t === 'issue' || t === 'impediment') return 'bug';
  if (t === 'task') return 'task';
  if (t === 'user story' || t === 'product backlog item' || t === 'requirement') return 'story';
  if (t === 'feature') return 'feature';
  if (t === 'epic') return 'epic';
  return 'other';
}

export const PRIORITIES: readonly { value: number; label: string }[] = [
  { value: 1, label: '1 (highest)' },
  { value: 2, label: '2' },
  { value: 3, label: '3' },
  { value: 4, label: '4 (lowest)' },
];

export function priorityLabel(priority: number | null): string {
  return priority === null ? 'No priority' : `Priority ${priority}`;
}

/** The last part of an iteration path (`ember\Sprint 14` → `Sprint 14`). */
export function iterationName(path: string | null): string | null {
  if (!path) return null;
  const parts = path.split('\\').filter((p) => p.trim() !== '');
  return parts.at(-1) ?? path;
}

const RELATIONS: Record<string, string> = { parent: 'Parent', child: 'Child', related: 'Related' };

export function relationLabel(rel: string): string {
  return RELATIONS[rel] ?? rel.charAt(0).toUpperCase() + rel.slice(1);
}

const SOURCES: Record<string, string> = {
  mention: 'Mentioned',
  url: 'Linked',
  notification: 'Notification',
};

/** How a message refers to an item, for the strip's tooltip. */
export function linkSourceLabel(source: string): string {
  return SOURCES[source] ?? source;
}

const LINK_STRENGTH: Record<string, number> = { notification: 0, url: 1, mention: 2 };

/** Links of several messages as one list: one entry per item, the strongest reference first. */
export function mergeLinks(lists: readonly LinkedWorkItem[][]): LinkedWorkItem[] {
  const byItem = new Map<number, LinkedWorkItem>();
  for (const link of lists.flat()) {
    const seen = byItem.get(link.itemId);
    if (!seen) {
      byItem.set(link.itemId, link);
      continue;
    }
    const stronger = (LINK_STRENGTH[link.source] ?? 3) < (LINK_STRENGTH[seen.source] ?? 3);
    byItem.set(link.itemId, { ...(stronger ? link : seen), item: seen.item ?? link.item });
  }
  return [...byItem.values()].sort(
    (a, b) => (LINK_STRENGTH[a.source] ?? 3) - (LINK_STRENGTH[b.source] ?? 3) || a.itemId - b.itemId,
  );
}

/** A sentence for an edit, as the conflict banner and errors name it. */
export function describeEdit(edit: WorkItemEdit): string {
  switch (edit.kind) {
    case 'setState':
      return `set the state to ${edit.state}`;
    case 'assign':
      return edit.to ? `assign it to ${edit.to}` : 'unassign it';
    case 'setPriority':
      return `set the priority to ${edit.priority}`;
    case 'comment': {
      const text = edit.text.trim().replace(/\s+/g, ' ');
      return `comment “${text.length > 80 ? `${text.slice(0, 79)}…` : text}”`;
    }
  }
}

/** What failed, for an edit's error line. */
export function editFailure(kind: WorkItemEdit['kind'] | 'resolve'): string {
  switch (kind) {
    case 'setState':
      return "Couldn't change the state";
    case 'assign':
      return "Couldn't change who it is assigned to";
    case 'setPriority':
      return "Couldn't change the priority";
    case 'comment':
      return "Couldn't add the comment";
    case 'resolve':
      return "Couldn't settle the conflict";
  }
}

/**
 * The Content-Security-Policy the Rust renderer gives mail documents without
 * remote content: nothing runs, nothing loads but inline images.
 */
export const FRAME_CSP =
  "default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'; font-src 'none'; media-src 'none'; " +
  "script-src 'none'; object-src 'none'; frame-src 'none'; child-src 'none'; connect-src 'none'; " +
  "form-action 'none'; base-uri 'none'";

const FRAME_STYLE =
  'html{color-scheme:light}body{margin:0;padding:10px 12px;' +
  "font-family:system-ui,-apple-system,'Segoe UI',sans-serif;font-size:14px;line-height:1.45;" +
  'color:#1d1d1f;background:#fff;overflow-wrap:break-word}img{max-width:100%;height:auto}' +
  'pre{white-space:pre-wrap}table{max-width:100%}p:first-child{margin-top:0}p:last-child{margin-bottom:0}';

/**
 * A comment's sanitised HTML as the whole document the sandboxed frame loads,
 * built like Rust's mail documents: its own CSP (no scripts, no remote
 * loads), no referrer, links opening a new window (handed to the system
 * browser). The markup goes into `srcdoc` only, never into the app's DOM.
 */
export function commentBody(html: string): RenderedBody {
  return {
    html:
      '<!DOCTYPE html><html><head><meta charset="utf-8">' +
      `<meta http-equiv="Content-Security-Policy" content="${FRAME_CSP}">` +
      '<meta name="referrer" content="no-referrer"><base target="_blank">' +
      `<style>${FRAME_STYLE}</style></head><body>${html}</body></html>`,
    remoteBlocked: 0,
    remoteAllowed: false,
    senderUnverified: false,
  };
}

/**
 * A height (px) for a frame showing this document, estimated from its text:
 * the frame is an opaque origin, so the page cannot measure it. Short
 * comments get a short frame; the user can drag any frame taller.
 */
export function estimateFrameHeight(html: string, { min = 56, max = 420, charsPerLine = 72 } = {}): number {
  const body = /<body[^>]*>([\s\S]*)<\/body>/i.exec(html)?.[1] ?? html;
  const content = body.replace(/<(style|script)[\s\S]*?<\/\1>/gi, '');
  let lines = 0;
  let blocks = 0;
  for (const block of content.split(/<(?:br|\/p|\/div|\/li|\/tr|\/h[1-6]|\/pre|\/blockquote|hr)\b[^>]*>/i)) {
    const text = block
      .replace(/<[^>]*>/g, '')
      .replace(/&[a-z#0-9]+;/gi, ' ')
      .trim();
    if (!text) continue;
    blocks += 1;
    lines += Math.ceil(text.length / charsPerLine);
  }
  const headings = (content.match(/<h[1-6]\b/gi) ?? []).length;
  const images = (content.match(/<img\b/gi) ?? []).length;
  const height = 40 + lines * 22 + blocks * 16 + headings * 14 + images * 160;
  return Math.round(Math.min(max, Math.max(min, height)));
}
