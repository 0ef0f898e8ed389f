// The keyboard map: one table drives both the handler and the help overlay.
// Keys are ignored while typing in a field; "g" starts a two-key sequence.

export type Command =
  | 'next'
  | 'previous'
  | 'open'
  | 'toggleUnread'
  | 'archive'
  | 'trash'
  | 'undo'
  | 'toggleStar'
  | 'reply'
  | 'replyAll'
  | 'forward'
  | 'compose'
  | 'search'
  | 'goInbox'
  | 'goCategories'
  | 'goWorkItems'
  | 'help'
  | 'send'
  | 'escape';

export interface Shortcut {
  keys: string[];
  command: Command;
  label: string;
  /** Shown in help but not active yet. */
  disabled?: boolean;
  /** Shown in help only: handled where it applies (the composer), never by the window's map. */
  context?: boolean;
}

export const SHORTCUTS: readonly Shortcut[] = [
  { keys: ['j'], command: 'next', label: 'Next conversation or work item' },
  { keys: ['k'], command: 'previous', label: 'Previous conversation or work item' },
  { keys: ['Enter', 'o'], command: 'open', label: 'Open conversation or work item' },
  { keys: ['u'], command: 'toggleUnread', label: 'Mark read / unread' },
  { keys: ['s'], command: 'toggleStar', label: 'Star / unstar' },
  { keys: ['e'], command: 'archive', label: 'Archive' },
  { keys: ['#'], command: 'trash', label: 'Delete' },
  { keys: ['z'], command: 'undo', label: 'Undo archive / delete' },
  { keys: ['c'], command: 'compose', label: 'New message' },
  { keys: ['r'], command: 'reply', label: 'Reply' },
  { keys: ['a'], command: 'replyAll', label: 'Reply all' },
  { keys: ['f'], command: 'forward', label: 'Forward' },
  { keys: ['/'], command: 'search', label: 'Search' },
  { keys: ['g i'], command: 'goInbox', label: 'Go to all inboxes' },
  { keys: ['g c'], command: 'goCategories', label: 'Go to categories' },
  { keys: ['g w'], command: 'goWorkItems', label: 'Go to work items' },
  { keys: ['?'], command: 'help', label: 'Show keyboard shortcuts' },
  { keys: ['Ctrl+Enter'], command: 'send', label: 'Send (in the composer)', context: true },
  { keys: ['Escape'], command: 'escape', label: 'Close overlay, save and close the composer, leave search' },
];

/** Whether the key event comes from somewhere the user types text. */
export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLInputElement) {
    return !['checkbox', 'radio', 'button', 'submit', 'reset', 'range', 'color'].includes(target.type);
  }
  return false;
}

/**
 * Turns key presses into commands. Feed every keydown; returns the command to
 * run (or null) and remembers a pending "g" for up to `sequenceMs`.
 */
export class KeyMap {
  /** When "g" was pressed, while a sequence is pending. */
  private pendingG: number | null = null;

  constructor(private readonly sequenceMs = 1500) {}

  resolve(e: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'altKey'>, now = Date.now()): Command | null {
    if (e.ctrlKey || e.metaKey || e.altKey) return null;
    const key = e.key;
    if (this.pendingG !== null && now - this.pendingG <= this.sequenceMs) {
      this.pendingG = null;
      const second = SHORTCUTS.find((s) => s.keys.includes(`g ${key}`));
      if (second) return second.command;
    }
    this.pendingG = null;
    if (key === 'g') {
      this.pendingG = now;
      return null;
    }
    const hit = SHORTCUTS.find((s) => s.keys.includes(key));
    return hit && !hit.disabled && !hit.context ? hit.command : null;
  }
}
