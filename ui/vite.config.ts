// Vite + Vitest config: relative asset paths so the bundle loads from Tauri's
// custom protocol, and nothing that needs the network at runtime.
/// <reference types="vitest/config" />
import { existsSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, searchForWorkspaceRoot } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';

// node_modules may be a symlink to an install shared between git worktrees; Vite
// (and so Vitest's jsdom runs) only loads files under server.fs.allow, so allow
// where it really lives as well as the workspace.
const modules = fileURLToPath(new URL('./node_modules', import.meta.url));
const allow = [searchForWorkspaceRoot(process.cwd()), ...(existsSync(modules) ? [realpathSync(modules)] : [])];

export default defineConfig({
  base: './',
  plugins: [svelte(), svelteTesting()],
  clearScreen: false,
  server: {
    port: 5173,
    strictPort: true,
    fs: { allow },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Keep every asset a file: inlined data: URLs for scripts/fonts would fight the CSP.
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
    setupFiles: ['src/test/setup.ts'],
    restoreMocks: true,
  },
});
