import { defineConfig } from 'vite';

// The console is plain static files served by the api role at <prefix>/console/. Relative asset
// URLs (base './') keep it working on a sub-path behind an ingress; hash routing means the server
// needs no fallback route. No inline script or style: the CSP forbids both.
export default defineConfig({
  root: import.meta.dirname,
  base: './',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 300,
  },
});
