// Messages on their way out, as toasts: "Sending…" with Undo until the undo
// window closes (sendAt), "Sent" once the draft has left list_drafts,
// "Queued (offline)" while it still waits past its window, and a refusal
// ("Not sent", the provider's reason, "Open") for a draft in `failed` —
// including ones refused before this window opened. list_drafts is read again
// on the app's sync events, and every `pollMs` while something is waiting.
import type { Draft } from '../../bindings/Draft';
import type { Backend } from '../backend/backend';
import { toApiError } from '../backend/errors';
import { debounce } from '../debounce';
import { formatAddress } from '../compose';
import { idMap } from '../ids';
import type { NotificationStore } from './notifications.svelte';
import { subscribe } from './subscribe';

export interface OutboxOptions {
  /** How often list_drafts is read while a message waits or is being sent. */
  pollMs: number;
  /** How long past sendAt a queued message may wait before it counts as offline. */
  graceMs: number;
  /** Coalesces bursts of sync events into one read. */
  refreshDebounceMs: number;
  /** Shows a draft in the composer (Undo, "Open" on a refusal). */
  onOpen: (draft: Draft) => void;
}

export const sendToastKey = (id: number): string => `send:${id}`;

type Phase = 'waiting' | 'offline' | 'sending';

function recipients(d: Draft): string {
  const all = [...d.to, ...d.cc, ...d.bcc];
  const first = all[0];
  if (!first) return d.subject || '(no subject)';
  const more = all.length > 1 ? ` and ${all.length - 1} more` : '';
  return `${d.subject || '(no subject)'} — to ${formatAddress(first)}${more}`;
}

export class OutboxStore {
  /** Drafts not yet sent, as list_drafts last said. */
  drafts = $state.raw<Draft[]>([]);

  /** Messages sent from this window and what their toast shows. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping; toasts are what renders
  private tracked = new Map<number, { draft: Draft; phase: Phase }>();
  /** Refusals already shown: draft id -> the updatedAt shown. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping
  private shownFailures = new Map<number, number>();
  private poll: ReturnType<typeof setTimeout> | null = null;
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- timer handles
  private windowTimers = new Set<ReturnType<typeof setTimeout>>();
  private readonly refreshSoon: ReturnType<typeof debounce>;
  private reading: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly backend: Backend,
    private readonly notifications: NotificationStore,
    private readonly options: OutboxOptions,
  ) {
    this.refreshSoon = debounce(() => void this.refresh(), options.refreshDebounceMs);
  }

  /** Listens to sync events and reads the drafts once (refusals from before show). */
  start(): () => void {
    const stop = subscribe(
      this.backend,
      (e) => {
        if (e.type === 'dataChanged' || (e.type === 'accountSync' && e.data.sync.state !== 'syncing')) {
          this.refreshSoon();
        }
      },
      () => {},
    );
    void this.refresh();
    return () => {
      stop();
      this.refreshSoon.cancel();
      this.stopPolling();
      for (const t of this.windowTimers) clearTimeout(t);
      this.windowTimers.clear();
    };
  }

  /** A message was just queued: "Sending…" with Undo until its window closes. */
  sent(draft: Draft): void {
    this.tracked.set(draft.id, { draft, phase: 'waiting' });
    this.show(draft, 'waiting');
    const wait = Math.max(0, (draft.sendAt ?? Date.now()) - Date.now()) + this.options.graceMs;
    const timer = setTimeout(() => {
      this.windowTimers.delete(timer);
      void this.refresh();
    }, wait);
    this.windowTimers.add(timer);
    this.schedulePoll();
  }

  /** Takes a queued message back into the composer. */
  async undo(id: number): Promise<void> {
    try {
      const draft = await this.backend.undoSend(id);
      this.tracked.delete(id);
      this.notifications.dismiss(sendToastKey(id));
      this.options.onOpen(draft);
    } catch (err) {
      const e = toApiError(err);
      this.toast({
        key: sendToastKey(id),
        kind: 'error',
        title: e.code === 'conflict' ? 'Too late to undo' : "Couldn't undo",
        message: e.message,
        code: e.code,
      });
      void this.refresh();
    }
  }

  /** Reads list_drafts and moves each toast on; concurrent calls share one read and one more after it. */
  refresh(): Promise<void> {
    if (this.reading) {
      this.again = true;
      return this.reading;
    }
    this.reading = this.read().finally(() => {
      this.reading = null;
      if (this.again) {
        this.again = false;
        void this.refresh();
      }
    });
    return this.reading;
  }

  private async read(): Promise<void> {
    let drafts: Draft[];
    try {
      drafts = await this.backend.listDrafts(null);
    } catch {
      // Unavailable for a moment (shutting down, a busy store): the next event or poll tries again.
      this.schedulePoll();
      return;
    }
    this.drafts = drafts;
    const byId = idMap(drafts.map((d) => [d.id, d] as const));
    const now = Date.now();
    for (const [id, entry] of [...this.tracked]) {
      const d = byId.get(id);
      if (!d) {
        // Left list_drafts: sent (a queued draft cannot be discarded).
        this.tracked.delete(id);
        this.toast({
          key: sendToastKey(id),
          kind: 'info',
          title: 'Sent',
          message: recipients(entry.draft),
        });
        continue;
      }
      entry.draft = d;
      if (d.state === 'editing') {
        // Taken back elsewhere (another window, the CLI).
        this.tracked.delete(id);
        this.notifications.dismiss(sendToastKey(id));
      } else if (d.state === 'failed') {
        this.tracked.delete(id);
      } else {
        const phase: Phase =
          d.state === 'sending' ? 'sending' : now >= (d.sendAt ?? 0) + this.options.graceMs ? 'offline' : 'waiting';
        if (phase !== entry.phase) {
          entry.phase = phase;
          this.show(d, phase);
        }
      }
    }
    for (const d of drafts) {
      if (d.state !== 'failed' || this.shownFailures.get(d.id) === d.updatedAt) continue;
      this.shownFailures.set(d.id, d.updatedAt);
      this.toast({
        key: sendToastKey(d.id),
        kind: 'error',
        title: 'Not sent',
        message: `${recipients(d)}: ${d.error ?? 'the provider refused it'}`,
        persistent: true,
        action: {
          label: 'Open',
          run: () => {
            this.notifications.dismiss(sendToastKey(d.id));
            this.options.onOpen(d);
          },
        },
      });
    }
    this.schedulePoll();
  }

  /** A toast of its own (a repeat would count up, "×2", where the message only moved on). */
  private toast(input: Parameters<NotificationStore['show']>[0]): void {
    this.notifications.dismiss(input.key);
    this.notifications.show(input);
  }

  private show(d: Draft, phase: Phase): void {
    const undo = { label: 'Undo', run: () => void this.undo(d.id) };
    const toast = {
      waiting: { title: 'Sending…', action: undo },
      offline: { title: 'Queued (offline)', action: undo },
      sending: { title: 'Sending…', action: null },
    }[phase];
    this.toast({
      key: sendToastKey(d.id),
      kind: 'info',
      title: toast.title,
      message: phase === 'offline' ? `${recipients(d)}. It goes when the connection is back.` : recipients(d),
      persistent: true,
      action: toast.action,
    });
  }

  private schedulePoll(): void {
    this.stopPolling();
    if (this.tracked.size === 0) return;
    this.poll = setTimeout(() => {
      this.poll = null;
      void this.refresh();
    }, this.options.pollMs);
  }

  private stopPolling(): void {
    if (this.poll !== null) clearTimeout(this.poll);
    this.poll = null;
  }
}
