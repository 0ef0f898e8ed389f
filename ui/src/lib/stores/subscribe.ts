// Wraps Backend.onEvent for stores whose start() must return a synchronous
// stop function: handles unsubscribing even if stop runs before listen resolves.
import type { Event as BackendEvent } from '../../bindings/Event';
import type { Backend } from '../backend/backend';

export function subscribe(
  backend: Backend,
  handler: (event: BackendEvent) => void,
  onError: (err: unknown) => void,
): () => void {
  let stopped = false;
  let unlisten: (() => void) | null = null;
  backend.onEvent((e) => {
    if (!stopped) handler(e);
  }).then(
    (u) => {
      if (stopped) u();
      else unlisten = u;
    },
    (err: unknown) => {
      if (!stopped) onError(err);
    },
  );
  return () => {
    stopped = true;
    unlisten?.();
    unlisten = null;
  };
}
