/**
 * The page's build (scripts/build-web.ts runs it; `npm start` does when the
 * build is stale). `npm run dev:web` serves it with hot reload, sending the
 * tus and API requests to a server on :1080 (start one with `npm start`).
 */
import path from 'node:path'
import { defineConfig } from 'vite'

const server = process.env.FILEDOCK_URL ?? 'http://127.0.0.1:1080'

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  build: {
    outDir: path.resolve(import.meta.dirname, '..', 'dist', 'web'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // The Uppy bundle is one chunk of ~330 kB (~100 kB gzipped); splitting it buys nothing on a one-page app.
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: { '/files': server, '/api': server },
    // The page imports the upload rules from server/uploads (one source of the refusal words).
    fs: { allow: [path.resolve(import.meta.dirname, '..')] },
  },
})
