// What every spec file shares: the `test` with its page-error guard, hydration and page-shell
// checks, the axe-core audit, the scriptless page used with JavaScript off, and sign-in.
//
// Every test runs in two projects (see playwright.config.ts): "js-on" exercises the
// hydrated Leptos app, "js-off" the bare server-rendered HTML. Locators are by role,
// label or text, plus the few ids, classes and data attributes that the app promises
// as its DOM contract (#hydration-status, .figura[data-figura=…], …).

import {
  test as base,
  expect,
  devices,
  type Browser,
  type BrowserContext,
  type Page,
  type TestInfo,
} from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";

export { expect };

export const jsEnabled = (testInfo: TestInfo) => testInfo.project.name !== "js-off";

/**
 * `test`, failing any test whose page threw: a wasm panic (e.g. a hydration mismatch)
 * surfaces as an uncaught page error, so a test that otherwise passes still fails when the
 * client blew up. The Content-Security-Policy reports what it blocks as console errors: a
 * blocked script, style or font is a broken page even when the test's own checks pass.
 */
export const test = base.extend<{ failOnPageErrors: void }>({
  failOnPageErrors: [
    async ({ page }, use) => {
      const errors: Error[] = [];
      page.on("pageerror", (error) => errors.push(error));
      page.on("console", (message) => {
        if (message.type() === "error" && /Content.Security.Policy/i.test(message.text())) {
          // Where it happened: the document's address (the CSP errors of stop 24's CI run did
          // not say which page they came from).
          const at = message.location().url || page.url();
          errors.push(new Error(`CSP: ${message.text()} (in ${at})`));
        }
      });
      await use();
      expect(
        errors.map((e) => `${e.name}: ${e.message}`),
        "uncaught errors in the page",
      ).toEqual([]);
    },
    { auto: true },
  ],
});

/**
 * The footer's #hydration-status says whether the wasm has hydrated: "false" in the
 * server HTML, "true" once an Effect has run in the browser. With JavaScript on we wait
 * for "true" so that the rest of the test drives the hydrated app, not the inert SSR
 * markup; with JavaScript off it must stay "false".
 */
export async function expectHydrationState(page: Page, testInfo: TestInfo) {
  const status = page.getByRole("contentinfo").locator("#hydration-status");
  await expect(status).toHaveAttribute("data-hydrated", jsEnabled(testInfo) ? "true" : "false");
}

/** Navigates, waits for hydration where it applies, and returns the HTTP response. */
export async function visit(page: Page, path: string, testInfo: TestInfo) {
  const response = await page.goto(path);
  expect(response, `no response for ${path}`).not.toBeNull();
  await expectHydrationState(page, testInfo);
  return response!;
}

/**
 * What every page shares: language, landmarks, skip link, one h1, and the demo-data label on
 * the demo server (`demo`), never on the server whose database holds real records.
 */
export async function expectPageShell(page: Page, demo = true) {
  await expect(page.locator("html")).toHaveAttribute("lang", "it");
  await expect(page.locator("h1")).toHaveCount(1);
  const main = page.getByRole("main");
  await expect(main).toHaveCount(1);
  await expect(main).toHaveAttribute("id", "main");
  // The skip link is usually visually hidden until focused, so check its target only.
  await expect(page.getByRole("link", { name: "Vai al contenuto" })).toHaveAttribute(
    "href",
    "#main",
  );
  if (demo) {
    await expect(page.getByText("Dati dimostrativi").first()).toBeVisible();
  } else {
    await expect(page.getByText("Dati dimostrativi")).toHaveCount(0);
  }
}

// Context options of the device, without the browser choice that newContext refuses.
const { defaultBrowserType: _, ...desktopChrome } = devices["Desktop Chrome"];

/**
 * Runs `body` on a page where the checks themselves may run JavaScript. With JavaScript on
 * that is `page`. With it off, timers never fire and `evaluate` is refused, so axe-core (or a
 * layout measure) would hang or fail: they run instead in a page that may run scripts but is
 * denied the app's own, so the DOM is the same server-rendered one (and visit() checks that
 * #hydration-status stays "false").
 */
export async function withScriptablePage<T>(
  page: Page,
  browser: Browser,
  baseURL: string | undefined,
  testInfo: TestInfo,
  body: (target: Page) => Promise<T>,
  viewport?: { width: number; height: number },
): Promise<T> {
  if (jsEnabled(testInfo)) {
    if (viewport) await page.setViewportSize(viewport);
    return body(page);
  }
  let scriptless: BrowserContext | undefined;
  try {
    scriptless = await browser.newContext({
      ...desktopChrome,
      ...(viewport ? { viewport } : {}),
      baseURL,
      javaScriptEnabled: true,
    });
    await scriptless.route("**/*", (route) =>
      route.request().resourceType() === "script" ? route.abort() : route.continue(),
    );
    return await body(await scriptless.newPage());
  } finally {
    await scriptless?.close();
  }
}

/** axe-core's WCAG 2.1 A and AA rules on `path` report nothing. */
export async function expectNoAxeViolations(
  page: Page,
  browser: Browser,
  baseURL: string | undefined,
  path: string,
  testInfo: TestInfo,
) {
  await withScriptablePage(page, browser, baseURL, testInfo, async (target) => {
    await visit(target, path, testInfo);
    const results = await new AxeBuilder({ page: target })
      .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
      .analyze();
    // One line per violation, naming the offending nodes, instead of axe's huge objects.
    const violations = results.violations.map(
      (v) =>
        `${v.id} [${v.impact}] ${v.help}: ` + v.nodes.map((n) => JSON.stringify(n.target)).join(", "),
    );
    expect(violations, `axe violations on ${path}:\n${violations.join("\n")}`).toEqual([]);
  });
}

// Demo accounts (created by `traguardi serve --demo`, printed by `make run`, listed in the
// README).
export const DEMO_COMUNE = { email: "demo.comune@traguardi.invalid", password: "Demo-Comune-2021" };
export const DEMO_REGIONE = { email: "demo.regione@traguardi.invalid", password: "Demo-Regione-2021" };

// The second server (end2end/run.sh): real accounts made with `traguardi user add`, so its
// database is not a demo one. The imports run there: an applied file ends a demo.
export const REAL_BASE_URL = process.env.REAL_BASE_URL ?? "http://127.0.0.1:3102";
export const REAL_REGIONE = { email: "referente@regione.puglia.example", password: "Reale-Regione-2021" };
export const REAL_COMUNE = { email: "ufficio@comune.lecce.example", password: "Reale-Comune-2021" };

export async function signIn(page: Page, testInfo: TestInfo, who: { email: string; password: string }) {
  await visit(page, "/accedi", testInfo);
  await page.getByLabel("Indirizzo e-mail").fill(who.email);
  await page.getByLabel("Password (obbligatorio)").fill(who.password);
  await page.getByRole("button", { name: "Accedi", exact: true }).click();
}
