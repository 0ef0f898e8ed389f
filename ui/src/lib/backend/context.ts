// Hands the Backend chosen in main.ts down to every component via Svelte context,
// so components are testable with a MockBackend and never import Tauri.
import { getContext, setContext } from 'svelte';
import type { Backend } from './backend';

const KEY = Symbol('backend');

/** Context map for `mount(App, { context })` / testing-library's `render(..., { context })`. */
export function backendContext(backend: Backend): Map<unknown, unknown> {
  return new Map([[KEY, backend]]);
}

export function setBackend(backend: Backend): Backend {
  return setContext(KEY, backend);
}

export function getBackend(): Backend {
  const backend = getContext<Backend | undefined>(KEY);
  if (!backend) throw new Error('No Backend in context: render inside <App> or call setBackend()');
  return backend;
}
