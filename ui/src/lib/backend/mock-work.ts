// What the MockBackend computes for work items where Rust would: the search
// box's work-item language (free words, "phrases", -excluded, type:, state:,
// assigned:), the checks edit_work_item makes, and the work-item references
// in a message (AB#123, links to an item's page, Azure DevOps' notifications).
import type { ApiError } from '../../bindings/ApiError';
import type { MessageSummary } from '../../bindings/MessageSummary';
import type { WorkItem } from '../../bindings/WorkItem';
import type { WorkItemEdit } from '../../bindings/WorkItemEdit';

/** The sender of Azure DevOps' notification mail. */
export const NOTIFICATION_SENDER = 'azuredevops@microsoft.com';

interface Token {
  negated: boolean;
  operator: string | null;
  value: string;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i] ?? '')) i++;
    if (i >= text.length) break;
    let negated = false;
    if (text[i] === '-') {
      negated = true;
      i++;
    }
    const op = /^([A-Za-z]+):/.exec(text.slice(i));
    let operator: string | null = null;
    if (op?.[1]) {
      operator = op[1].toLowerCase();
      i += op[0].length;
    }
    let value = '';
    if (text[i] === '"') {
      const end = text.indexOf('"', i + 1);
      value = text.slice(i + 1, end < 0 ? text.length : end);
      i = end < 0 ? text.length : end + 1;
    } else {
      const start = i;
      while (i < text.length && !/\s/.test(text[i] ?? '')) i++;
      value = text.slice(start, i);
    }
    tokens.push({ negated, operator, value });
  }
  return tokens;
}

export interface WorkSearch {
  words: { text: string; negated: boolean }[];
  types: string[];
  states: string[];
  assigned: { kind: 'me' } | { kind: 'nobody' } | { kind: 'who'; who: string } | null;
}

const invalidQuery = (message: string): ApiError => ({ code: 'invalidQuery', message });

/** Parses the box's text as Rust does; throws an `invalidQuery` ApiError with Rust's sentences. */
export function parseWorkSearch(text: string): WorkSearch {
  const search: WorkSearch = { words: [], types: [], states: [], assigned: null };
  for (const { negated, operator, value } of tokenize(text)) {
    const lower = value.trim().toLowerCase();
    if (operator === null) {
      if (lower) search.words.push({ text: lower, negated });
      continue;
    }
    if (!lower) continue; // `type:` with nothing after it yet: still typing
    if (negated) throw invalidQuery(`${operator}: cannot be negated`);
    switch (operator) {
      case 'type':
        search.types.push(lower);
        break;
      case 'state':
        search.states.push(lower);
        break;
      case 'assigned':
        search.assigned = ['me', '@me'].includes(lower)
          ? { kind: 'me' }
          : ['none', 'nobody', 'unassigned'].includes(lower)
            ? { kind: 'nobody' }
            : { kind: 'who', who: lower };
        break;
      default:
        throw invalidQuery(`unknown operator ${operator}: for work items (known: type:, state:, assigned:)`);
    }
  }
  return search;
}

/** Whether an item matches a parsed search; `description` is its text for free words. */
export function matchesWorkSearch(w: WorkItem, search: WorkSearch, description = ''): boolean {
  if (search.types.length && !search.types.includes(w.itemType.toLowerCase())) return false;
  if (search.states.length && !search.states.includes(w.state.toLowerCase())) return false;
  const a = search.assigned;
  if (a?.kind === 'me' && !w.memberships.includes('assigned')) return false;
  if (a?.kind === 'nobody' && w.assignedTo !== null) return false;
  if (a?.kind === 'who' && !(w.assignedTo ?? '').toLowerCase().includes(a.who)) return false;
  const hay = `${w.title} ${description.replace(/<[^>]*>/g, ' ')}`.toLowerCase();
  return search.words.every((word) => hay.includes(word.text) !== word.negated);
}

const invalidInput = (message: string): ApiError => ({ code: 'invalidInput', message });

/** Refuses what Azure DevOps would refuse, with Rust's sentences; returns the edit as it is queued. */
export function checkEdit(item: WorkItem, edit: WorkItemEdit, allowed: readonly string[]): WorkItemEdit {
  switch (edit.kind) {
    case 'setState': {
      const state = edit.state.trim();
      const found = allowed.find((s) => s.toLowerCase() === state.toLowerCase());
      if (found) return { kind: 'setState', state: found };
      if (allowed.length === 0 && state) return { kind: 'setState', state };
      throw invalidInput(`A ${item.itemType} cannot be ${state}; it can be: ${allowed.join(', ')}.`);
    }
    case 'setPriority':
      if (Number.isInteger(edit.priority) && edit.priority >= 1 && edit.priority <= 4) return edit;
      throw invalidInput(`Priority is 1 (highest) to 4, not ${edit.priority}.`);
    case 'assign': {
      const to = edit.to?.trim() || null;
      if (to && to.length > 320) throw invalidInput('That name is too long.');
      return { kind: 'assign', to };
    }
    case 'comment': {
      const text = edit.text.trim();
      if (!text) throw invalidInput('A comment needs some text.');
      if (text.length > 20_000) throw invalidInput('A comment is at most 20000 characters.');
      return { kind: 'comment', text };
    }
  }
}

/** A reference from a message to a work item number. */
export interface WorkItemRef {
  itemId: number;
  source: 'mention' | 'url' | 'notification';
}

const STRENGTH = { mention: 0, url: 1, notification: 2 } as const;

/** Whether a message could refer to a work item at all (cheap, before the regexes). */
export function mayReferToWorkItems(m: MessageSummary, body: string): boolean {
  const text = `${m.subject} ${m.snippet} ${body}`.toLowerCase();
  return m.from.address.toLowerCase() === NOTIFICATION_SENDER || text.includes('ab#') || text.includes('_workitems');
}

/** The work items a message refers to, strongest reference first (as Rust's links::find). */
export function findWorkItemRefs(m: MessageSummary, body: string): WorkItemRef[] {
  const found = new Map<number, WorkItemRef['source']>();
  const add = (itemId: number, source: WorkItemRef['source']) => {
    const seen = found.get(itemId);
    if (!seen || STRENGTH[source] > STRENGTH[seen]) found.set(itemId, source);
  };
  const text = `${m.subject}\n${m.snippet}\n${body}`;
  for (const hit of text.matchAll(/(?<![A-Za-z0-9])AB#(\d+)(?![A-Za-z0-9])/gi)) add(Number(hit[1]), 'mention');
  for (const hit of text.matchAll(/\/_workitems\/edit\/(\d+)/gi)) add(Number(hit[1]), 'url');
  if (m.from.address.toLowerCase() === NOTIFICATION_SENDER) {
    const about = /(?:^|[\s[])[A-Za-z]+ (\d+)\s*(?:[-:]|$)/.exec(m.subject);
    if (about?.[1]) add(Number(about[1]), 'notification');
  }
  return [...found.entries()]
    .map(([itemId, source]) => ({ itemId, source }))
    .sort((a, b) => STRENGTH[b.source] - STRENGTH[a.source] || a.itemId - b.itemId);
}
