// Toast state for the notification area: one toast per key (e.g. per account),
// repeats collapse into a counter, errors auto-collapse, persistent ones stay.
import type { ErrorCode } from '../../bindings/ErrorCode';
import type { SyncErrorCode } from '../../bindings/SyncErrorCode';

export type ToastKind = 'error' | 'reauth' | 'info';

/** A button on a toast, e.g. "Retry" or "Re-authenticate". */
export interface ToastAction {
  label: string;
  run: () => void;
}

/** The machine-readable code a toast shows: a failed command's or a failed sync's. */
export type ToastCode = ErrorCode | SyncErrorCode;

export interface Toast {
  key: string;
  kind: ToastKind;
  title: string;
  message: string;
  code: ToastCode | null;
  /** How many times this toast was raised since it appeared. */
  count: number;
  persistent: boolean;
  action: ToastAction | null;
}

export type ToastInput = Omit<Toast, 'count' | 'persistent' | 'code' | 'action'> & {
  code?: ToastCode | null;
  persistent?: boolean;
  action?: ToastAction | null;
};

export class NotificationStore {
  toasts = $state<Toast[]>([]);
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- timer handles, never rendered
  private timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(private readonly toastMs: number) {}

  show(input: ToastInput): void {
    const persistent = input.persistent ?? false;
    const existing = this.toasts.find((t) => t.key === input.key);
    if (existing) {
      existing.kind = input.kind;
      existing.title = input.title;
      existing.message = input.message;
      existing.code = input.code ?? null;
      existing.persistent = persistent;
      existing.action = input.action ?? null;
      existing.count += 1;
    } else {
      this.toasts.push({ ...input, code: input.code ?? null, action: input.action ?? null, persistent, count: 1 });
    }
    this.clearTimer(input.key);
    if (!persistent) {
      this.timers.set(
        input.key,
        setTimeout(() => this.dismiss(input.key), this.toastMs),
      );
    }
  }

  dismiss(key: string): void {
    this.clearTimer(key);
    this.toasts = this.toasts.filter((t) => t.key !== key);
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private clearTimer(key: string): void {
    const t = this.timers.get(key);
    if (t !== undefined) clearTimeout(t);
    this.timers.delete(key);
  }
}
