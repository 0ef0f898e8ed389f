// Marks the moment the first message rows were painted, as a User Timing mark
// relative to navigation start, so the browser tests (and the lead, through
// WebDriver in the real app) can read the cold-start figure.
export const FIRST_LIST_PAINT = 'ember:first-list-paint';

let marked = false;

/** Call when rows are in the DOM; marks once, after the next frame is painted. */
export function markFirstListPaint(): void {
  if (marked || typeof performance === 'undefined' || typeof requestAnimationFrame === 'undefined') return;
  marked = true;
  requestAnimationFrame(() => setTimeout(() => performance.mark(FIRST_LIST_PAINT), 0));
}
