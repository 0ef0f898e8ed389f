// Where the main area is: a mailbox view (list + reading pane) or the work items.
import type { MailView } from '../bindings/MailView';

export type Place = MailView | { kind: 'workItems' };

export function isMailView(place: Place): place is MailView {
  return place.kind !== 'workItems';
}

export function samePlace(a: Place, b: Place): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
