// The list order shared by the UI and the mock: newest first, ties broken by
// id descending — the same order the (date, id) keyset cursor pages through.
import type { MessageSummary } from '../bindings/MessageSummary';

export function compareNewestFirst(a: MessageSummary, b: MessageSummary): number {
  return b.date - a.date || b.id - a.id;
}
