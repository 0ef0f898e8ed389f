// Entry point: picks the Backend once — Tauri IPC inside the app window, demo
// data in a plain browser — and mounts App with it in Svelte context.
import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';
import type { Backend } from './lib/backend/backend';
import { backendContext } from './lib/backend/context';
import type { MockBackend } from './lib/backend/mock';

declare global {
  interface Window {
    /** The demo backend, in a plain browser only. */
    __emberMock?: MockBackend;
  }
}

async function pickBackend(): Promise<Backend> {
  if ('__TAURI_INTERNALS__' in window) return (await import('./lib/backend/tauri')).tauriBackend;
  // `?messages=100020` sizes the demo mailbox (the browser tests use it).
  const messages = Number(new URLSearchParams(window.location.search).get('messages')) || undefined;
  const demo = (await import('./lib/backend/demo')).createDemoBackend({ messages });
  // Browser tests read the mock's call log and data through this; never set inside Tauri.
  window.__emberMock = demo;
  return demo;
}

const target = document.getElementById('app');
if (!target) throw new Error('index.html is missing #app');

void pickBackend().then((backend) => {
  // With first-list-paint (lib/first-paint.ts) this splits cold start into backend set-up and UI.
  performance.mark('ember:backend-ready');
  mount(App, { target, context: backendContext(backend) });
});
