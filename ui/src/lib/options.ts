// Tunables for timing and paging, overridable by tests so they need no fake timers.
export interface AppOptions {
  /** Rows per keyset page (the backend caps it at a few hundred). */
  pageSize: number;
  /** Pause after the last keystroke before a search is sent. */
  searchDebounceMs: number;
  /** Coalesce bursts of dataChanged events into one refetch. */
  refreshDebounceMs: number;
  /** How long an error toast stays before it collapses away. */
  toastMs: number;
  /** How long archive and delete wait behind their Undo toast before they are sent (0: at once). */
  undoMs: number;
  /** Pause after the last change in the composer before the draft is saved. */
  draftSaveMs: number;
  /** How often the outgoing list is read while a message waits or is being sent. */
  outboxPollMs: number;
  /** How long past its undo window a queued message may wait before it shows as "Queued (offline)". */
  sendGraceMs: number;
  /** Pause after a keystroke in To/Cc/Bcc before suggestions are asked for. */
  suggestDelayMs: number;
}

export const DEFAULT_OPTIONS: AppOptions = {
  pageSize: 200,
  searchDebounceMs: 120,
  refreshDebounceMs: 250,
  toastMs: 8000,
  undoMs: 5000,
  draftSaveMs: 1000,
  outboxPollMs: 3000,
  sendGraceMs: 3000,
  suggestDelayMs: 120,
};
