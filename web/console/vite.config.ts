import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// The build lands in dist/, which the Go binary embeds (web/web.go) and git keeps, so
// `go run ./cmd/linedesk dev` serves the console without Node. CI rebuilds it and fails when the
// committed files differ, so the names must depend only on the sources: hashed asset names, no
// timestamps.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
  server: {
    // `npm run dev` proxies the API to a running `linedesk dev`.
    proxy: { "/api": { target: "http://127.0.0.1:8080", changeOrigin: false } },
  },
  test: {
    environment: "jsdom",
    globals: true,
    include: ["src/**/*.test.tsx", "src/**/*.test.ts"],
    setupFiles: ["src/test-setup.ts"],
  },
});
