import { defineConfig, devices } from "@playwright/test";
import { execSync } from "node:child_process";

// Playwright's own browser builds cannot be downloaded on our machines (no network but
// the package registries), so `npx playwright install` is never run. Instead we drive
// Debian's chromium package. CHROMIUM_PATH overrides the lookup (e.g. `/bin/true` for
// `playwright test --list` on a machine without chromium).
const CHROMIUM =
  process.env.CHROMIUM_PATH || execSync("command -v chromium").toString().trim();

// Flags for a sandboxed, offline CI box: headless, no setuid sandbox (we run as root),
// no GPU, and none of the background traffic (updates, sync, QUIC probes) that would try
// to reach the internet and slow down or pollute the run.
const launchOptions = {
  executablePath: CHROMIUM,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
};

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  // One worker, in order: the tests share one server (started by the Makefile, hence no
  // `webServer` entry here) and the machines have only two cores.
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: process.env.BASE_URL ?? "http://127.0.0.1:3000",
  },
  // The same tests run twice: once with JavaScript, against the hydrated Leptos app, and
  // once without it, against the plain server-rendered HTML. The app must work in both
  // (progressive enhancement), and the js-off run proves the SSR output is complete.
  projects: [
    {
      name: "js-on",
      use: { ...devices["Desktop Chrome"], javaScriptEnabled: true, launchOptions },
    },
    {
      name: "js-off",
      use: { ...devices["Desktop Chrome"], javaScriptEnabled: false, launchOptions },
    },
  ],
});
