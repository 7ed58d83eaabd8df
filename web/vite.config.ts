import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

// The gateway serves dist/ under a strict Content-Security-Policy: one module
// script and one stylesheet from the same origin, nothing inline.
export default defineConfig({
  plugins: [preact()],
  build: {
    outDir: "dist",
    assetsDir: "assets",
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
  },
});
