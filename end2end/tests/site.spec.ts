// The frame (Bootstrap Italia header and footer), the footer's pages and the feedback form,
// with JavaScript on and off (see helpers.ts and playwright.config.ts).

import {
  test,
  expect,
  jsEnabled,
  visit,
  expectHydrationState,
  expectPageShell,
  expectNoAxeViolations,
  withScriptablePage,
  signIn,
  DEMO_REGIONE,
} from "./helpers";

const PAGES: [string, string][] = [
  ["/accessibilita", "Dichiarazione di accessibilità"],
  ["/privacy", "Informativa sul trattamento dei dati personali"],
  ["/note-legali", "Note legali"],
  ["/feedback", "Invia un commento"],
];

test.describe("frame", () => {
  test("Bootstrap Italia's header and footer, with landmarks and no BI JavaScript", async ({ page, request }, testInfo) => {
    await visit(page, "/", testInfo);
    await expectPageShell(page);
    const header = page.getByRole("banner");
    await expect(header.getByRole("link", { name: "Regione Puglia" })).toBeVisible();
    await expect(header.getByRole("link", { name: /Traguardi — Fondo Innovazione/ })).toHaveAttribute("href", "/");
    // The header never holds the page's h1.
    await expect(header.locator("h1")).toHaveCount(0);
    const nav = page.getByRole("navigation", { name: "Sezioni principali" });
    await expect(nav.getByRole("link", { name: "Cruscotto" })).toHaveAttribute("aria-current", "page");
    await expect(nav.getByRole("link", { name: "Comuni" })).not.toHaveAttribute("aria-current", "page");
    await expect(page.getByRole("navigation", { name: "Informazioni sul sito" })).toBeVisible();
    await expect(page.getByRole("contentinfo")).toContainText("ISTAT (licenza CC BY)");
    // Bootstrap Italia's stylesheet is served from this site, before ours; its script never.
    // Static files carry their folder's content hash in their address and are kept for a year.
    const sheets = page.locator("head link[rel=stylesheet]");
    const bi = /^\/bootstrap-italia\/([0-9a-f]{16})\/css\/bootstrap-italia\.min\.css$/;
    await expect(sheets.first()).toHaveAttribute("href", bi);
    await expect(sheets.last()).toHaveAttribute("href", /^\/pkg\/[0-9a-f]{16}\/traguardi\.css$/);
    await expect(page.locator("script[src*='bootstrap-italia']")).toHaveCount(0);
    const biHref = (await sheets.first().getAttribute("href"))!;
    const css = await request.get(biHref);
    expect(css.status()).toBe(200);
    expect(css.headers()["content-type"]).toContain("text/css");
    expect(css.headers()["cache-control"]).toBe("public, max-age=31536000, immutable");
    // The stylesheet's fonts resolve under the same hashed folder.
    const hash = biHref.match(bi)![1];
    const font = await request.get(
      `/bootstrap-italia/${hash}/fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-regular.woff2`,
    );
    expect(font.status()).toBe(200);
    expect(font.headers()["cache-control"]).toBe("public, max-age=31536000, immutable");
    const wasm = page.locator("link[rel=preload][href$='.wasm'], link[rel=modulepreload][href$='.js']");
    expect(await wasm.count()).toBeGreaterThan(0);
    for (const href of await wasm.evaluateAll((links) => links.map((l) => l.getAttribute("href")))) {
      expect(href).toMatch(/^\/pkg\/[0-9a-f]{16}\/traguardi\.(js|wasm)$/);
    }
    // The plain addresses still answer, without the long lifetime.
    const plain = await request.get("/bootstrap-italia/css/bootstrap-italia.min.css");
    expect(plain.status()).toBe(200);
    expect(plain.headers()["cache-control"] ?? "").not.toContain("immutable");
  });

  test("the fonts load from this site and the styles apply", async ({ page, browser, baseURL }, testInfo) => {
    await withScriptablePage(page, browser, baseURL, testInfo, async (target) => {
      await visit(target, "/", testInfo);
      const fonts = await target.evaluate(async () => {
        await document.fonts.ready;
        return {
          body: getComputedStyle(document.body).fontFamily,
          titillium: document.fonts.check('600 16px "Titillium Web"'),
        };
      });
      expect(fonts.body).toContain("Titillium Web");
      expect(fonts.titillium).toBe(true);
    });
  });

  test("keyboard: the skip link comes first and focus is visible", async ({ page, browser, baseURL }, testInfo) => {
    await withScriptablePage(page, browser, baseURL, testInfo, async (target) => {
      await visit(target, "/comuni", testInfo);
      await target.keyboard.press("Tab");
      const skip = target.getByRole("link", { name: "Vai al contenuto" });
      await expect(skip).toBeFocused();
      await expect(skip).toBeVisible();
      // Tab on to the main navigation: the focused link shows a ring (BI's focus style).
      const cruscotto = target.getByRole("navigation", { name: "Sezioni principali" }).getByRole("link", { name: "Cruscotto" });
      for (let i = 0; i < 10 && !(await cruscotto.evaluate((el) => el === document.activeElement)); i++) {
        await target.keyboard.press("Tab");
      }
      await expect(cruscotto).toBeFocused();
      const ring = await cruscotto.evaluate((el) => {
        const s = getComputedStyle(el);
        return { shadow: s.boxShadow, outline: s.outlineStyle };
      });
      expect(ring.shadow !== "none" || ring.outline !== "none", JSON.stringify(ring)).toBe(true);
    });
  });

  for (const path of ["/", "/comuni"]) {
    test(`reflows at 320 CSS px without horizontal scrolling: ${path}`, async ({ page, browser, baseURL }, testInfo) => {
      await withScriptablePage(
        page,
        browser,
        baseURL,
        testInfo,
        async (target) => {
          await visit(target, path, testInfo);
          const widths = await target.evaluate(() => ({
            scroll: document.documentElement.scrollWidth,
            client: document.documentElement.clientWidth,
          }));
          expect(widths.scroll, JSON.stringify(widths)).toBeLessThanOrEqual(320);
          // The main navigation stays visible (no menu toggle needed).
          const nav = target.getByRole("navigation", { name: "Sezioni principali" });
          await expect(nav.getByRole("link", { name: "Comuni" })).toBeVisible();
          await expect(target.getByRole("contentinfo").getByRole("link", { name: "Note legali" })).toBeVisible();
        },
        { width: 320, height: 800 },
      );
    });
  }

  test("the footer links reach the pages", async ({ page }, testInfo) => {
    await visit(page, "/comuni", testInfo);
    const footer = page.getByRole("contentinfo");
    await footer.getByRole("link", { name: "Dichiarazione di accessibilità" }).click();
    await expect(page).toHaveURL(/\/accessibilita$/);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Dichiarazione di accessibilità");
    await expectHydrationState(page, testInfo);
    await footer.getByRole("link", { name: "Informativa sulla privacy" }).click();
    await expect(page).toHaveURL(/\/privacy$/);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Informativa sul trattamento dei dati personali");
    await footer.getByRole("link", { name: "Note legali" }).click();
    await expect(page).toHaveURL(/\/note-legali$/);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Note legali");
    // The feedback link names the page it was followed from.
    await footer.getByRole("link", { name: "Invia un commento" }).click();
    await expect(page).toHaveURL(/\/feedback\?pagina=\/note-legali$/);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Invia un commento");
    await expect(page.getByRole("main")).toContainText("/note-legali");
  });
});

test.describe("the footer's pages", () => {
  for (const [path, title] of PAGES) {
    test(`${path} has the frame and its heading`, async ({ page }, testInfo) => {
      const response = await visit(page, path, testInfo);
      expect(response.status()).toBe(200);
      await expectPageShell(page);
      await expect(page.getByRole("heading", { level: 1 })).toHaveText(title);
    });

    test(`no axe violations on ${path}`, async ({ page, browser, baseURL }, testInfo) => {
      await expectNoAxeViolations(page, browser, baseURL, path, testInfo);
    });
  }

  test("the accessibility statement says what was tested and where to complain", async ({ page }, testInfo) => {
    await visit(page, "/accessibilita", testInfo);
    const main = page.getByRole("main");
    for (const heading of [
      "Stato di conformità",
      "Contenuti non accessibili",
      "Redazione della dichiarazione di accessibilità",
      "Meccanismo di feedback e informazioni di contatto",
      "Procedura di attuazione",
      "Informazioni sul sito",
    ]) {
      await expect(main.getByRole("heading", { level: 2, name: heading })).toBeVisible();
    }
    await expect(main).toContainText("parzialmente conforme");
    await expect(main).toContainText("axe-core");
    await expect(main.getByRole("link", { name: "https://form.agid.gov.it" })).toBeVisible();
  });
});

test.describe("feedback form", () => {
  test("a refused message comes back with its errors and what was typed", async ({ page }, testInfo) => {
    await visit(page, "/feedback?pagina=/comuni", testInfo);
    await page.getByLabel("Cosa stavi cercando di fare?").fill("Trovare un comune");
    await page.getByLabel("Indirizzo e-mail per una risposta").fill("non-una-email");
    await page.getByRole("button", { name: "Invia il commento" }).click();
    await expectHydrationState(page, testInfo);
    await expect(page.getByRole("alert")).toContainText("Il commento non è stato inviato");
    await expect(page.getByText("Errore: Scrivi il tuo messaggio.")).toBeVisible();
    await expect(page.getByText(/Errore: «non-una-email» non è un indirizzo e-mail valido/)).toBeVisible();
    await expect(page.getByLabel("Cosa stavi cercando di fare?")).toHaveValue("Trovare un comune");
    await expect(page.getByLabel("Indirizzo e-mail per una risposta")).toHaveValue("non-una-email");
    await expect(page.getByLabel("Il tuo messaggio (obbligatorio)")).toHaveAttribute("aria-invalid", "true");
  });

  test("a message is sent, thanked, and read by the Region", async ({ page }, testInfo) => {
    const text = `Messaggio di prova ${testInfo.project.name} ${Date.now()}`;
    await visit(page, "/comuni", testInfo);
    await page.getByRole("contentinfo").getByRole("link", { name: "Invia un commento" }).click();
    await expect(page).toHaveURL(/\/feedback\?pagina=\/comuni$/);
    await expectHydrationState(page, testInfo);
    const rating = page.getByRole("group", { name: /Quanto è stato facile/ });
    await rating.getByText("4", { exact: true }).click();
    await expect(rating.getByRole("radio", { name: "4", exact: true })).toBeChecked();
    await page.getByLabel("Il tuo messaggio (obbligatorio)").fill(text);
    await page.getByRole("button", { name: "Invia il commento" }).click();
    await expect(page).toHaveURL(/\/feedback\?inviato=1$/);
    await expectHydrationState(page, testInfo);
    await expect(page.getByRole("status")).toHaveText("Grazie, il tuo messaggio è stato ricevuto.");

    // Only the Region reads it.
    const refused = await visit(page, "/feedback/ricevuti", testInfo);
    expect(refused.status()).toBe(401);
    await expect(page.getByRole("main")).not.toContainText(text);
    await signIn(page, testInfo, DEMO_REGIONE);
    await expect(page).toHaveURL(/\/profilo$/);
    await page.getByRole("banner").getByRole("link", { name: "Commenti ricevuti" }).click();
    await expect(page).toHaveURL(/\/feedback\/ricevuti$/);
    await expectHydrationState(page, testInfo);
    const row = page.getByRole("row").filter({ hasText: text });
    await expect(row).toContainText("/comuni");
    await expect(row).toContainText("4 su 5");
    if (jsEnabled(testInfo)) {
      // Hydrated: the header's sign-out still works as a plain form.
      await page.getByRole("button", { name: "Esci" }).click();
      await expect(page).toHaveURL(/\/accedi\?uscita=1$/);
    }
  });
});
