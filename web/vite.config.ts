// Vite without the React Babel plugin: esbuild compiles TSX (automatic JSX runtime), which
// keeps `npm ci` and the build fast for CI. No fast refresh in dev; a reload is enough.
import { defineConfig } from "vitest/config";

export default defineConfig({
  base: "/app/",
  esbuild: { jsx: "automatic" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2020",
    sourcemap: false,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
    rollupOptions: {
      onwarn(warning, warn) {
        // react-query's "use client" markers mean nothing without server components
        if (warning.code === "MODULE_LEVEL_DIRECTIVE") return;
        warn(warning);
      },
    },
  },
  server: {
    // `npm run dev` against `make run` on 8080
    proxy: Object.fromEntries(["/auth", "/doctors", "/bookings", "/holds", "/catalog", "/photos"]
      .map((p) => [p, "http://127.0.0.1:8080"])),
  },
  test: { include: ["src/**/*.test.ts"] },
});
