// What the browser tests read from the page: the demo MockBackend main.ts exposes in a plain browser.
import type { MockBackend } from '../../src/lib/backend/mock';

declare global {
  interface Window {
    __emberMock?: MockBackend;
  }
}
