/// <reference types="vitest/config" />
import { readdirSync } from "node:fs";
import { resolve } from "node:path";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Every file in src/entries/ is one page's script; Django includes it by name through the
// manifest (teams/templatetags/vite.py), so adding a page needs no change here.
const here = import.meta.dirname;
const entriesDir = resolve(here, "src/entries");
const input = Object.fromEntries(
  readdirSync(entriesDir)
    .filter((f) => /\.(tsx?|jsx?)$/.test(f))
    .map((f) => [f.replace(/\.[^.]+$/, ""), resolve(entriesDir, f)]),
);

export default defineConfig({
  plugins: [react()],
  base: "/static/app/",
  build: {
    outDir: resolve(here, "../static/app"),
    emptyOutDir: true,
    manifest: true,
    sourcemap: true,
    rollupOptions: { input },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
