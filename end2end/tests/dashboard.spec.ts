import AxeBuilder from "@axe-core/playwright";
import type { Page, TestInfo } from "@playwright/test";
import { test, expect, jsEnabled, visit, withScriptablePage, signIn } from "./helpers";

// The dashboard (issue 4): the filter form drives the cards, the charts and the map alike;
// the map's comuni are links; the page passes axe as anonymous and as an assessore.

const DEMO_ASSESSORE = {
  email: "demo.assessore@traguardi.invalid",
  password: "Demo-Assessore-2021",
};

const parseItalianInt = (text: string | null) => Number((text ?? "").trim().replace(/\./g, ""));

const figura = (page: Page, key: string) =>
  page.locator(`.figura[data-figura="${key}"] .figura-valore`);

/** Number of comuni of one class on the inline map. */
const mapCount = (page: Page, css: string) => page.locator(`.mappa-svg path.${css}`).count();

/** The count the legend says for a class ("Escluso dal filtro: 161 comuni"). */
async function legendCount(page: Page, css: string) {
  const text = await page.locator(`.legenda li[data-stato="${css}"]`).textContent();
  return parseItalianInt(text?.match(/: ([\d.]+) comun/)?.[1] ?? "NaN");
}

async function applyProvince(page: Page, testInfo: TestInfo, provincia: string) {
  await page.getByRole("combobox", { name: "Provincia", exact: true }).selectOption({ label: provincia });
  await page.getByRole("button", { name: "Applica i filtri" }).click();
  await expect(page).toHaveURL(/provincia=LE/);
  await expect(page.getByTestId("filtri-applicati")).toContainText(`provincia di ${provincia}`);
  if (!jsEnabled(testInfo)) await expect(page.locator("#hydration-status")).toHaveAttribute("data-hydrated", "false");
}

test.describe("dashboard filters", () => {
  test("a province filter changes the cards, the charts and the map alike", async ({ page }, testInfo) => {
    await visit(page, "/", testInfo);
    // The whole of Puglia first: nothing excluded from the map.
    expect(await mapCount(page, "mappa-fuori-filtro")).toBe(0);
    expect(await legendCount(page, "mappa-fuori-filtro")).toBe(0);
    if (jsEnabled(testInfo)) {
      // Set a mark on the window: it survives only if the page is updated in place.
      await page.evaluate(() => ((window as unknown as { __mark: number }).__mark = 42));
    }

    await applyProvince(page, testInfo, "Lecce");

    // Lecce has 96 comuni: the other 161 are outside the filter on the map and in its legend.
    await expect(page.getByTestId("filtri-applicati")).toContainText("96 comuni considerati");
    await expect(page.locator(".mappa-svg path.mappa-fuori-filtro")).toHaveCount(161);
    expect(await legendCount(page, "mappa-fuori-filtro")).toBe(161);

    // The cards count the same comuni as the map's classes.
    const supportati = parseItalianInt(await figura(page, "supportati").textContent());
    const tutti = parseItalianInt(await figura(page, "tutti-obiettivi").textContent());
    const primo = parseItalianInt(await figura(page, "primo-step").textContent());
    const onMap = {
      aderente: await mapCount(page, "mappa-aderente"),
      primo: await mapCount(page, "mappa-primo-step"),
      tutti: await mapCount(page, "mappa-tutti-obiettivi"),
      non: await mapCount(page, "mappa-non-aderente"),
    };
    expect(onMap.tutti).toBe(tutti);
    expect(onMap.primo + onMap.tutti).toBe(primo);
    expect(onMap.aderente + onMap.primo + onMap.tutti).toBe(supportati);
    expect(supportati + onMap.non).toBe(96);

    // The charts and their tables show Lecce only.
    const adesione = page.locator('figure[data-grafico="adesione"]');
    await expect(adesione.locator("svg text", { hasText: /^\s*Lecce\s*$/ })).toHaveCount(1);
    await expect(adesione.locator("svg text", { hasText: /^\s*Bari\s*$/ })).toHaveCount(0);
    await adesione.getByText("Dati del grafico in tabella").click();
    const row = adesione.getByRole("row").filter({ has: page.getByRole("rowheader", { name: "Lecce" }) });
    const cells = row.getByRole("cell");
    const aderenti = parseItalianInt(await cells.nth(0).textContent());
    const inRitardo = parseItalianInt(await cells.nth(1).textContent());
    expect(aderenti + inRitardo).toBe(supportati);
    await expect(adesione.getByRole("rowheader")).toHaveCount(1);

    // The download links and the CSV carry the same filter.
    await expect(page.getByRole("link", { name: "Scarica la mappa (SVG)" })).toHaveAttribute(
      "href",
      "/grafici/mappa.svg?provincia=LE",
    );
    const png = page.getByRole("link", { name: "Scarica la mappa (PNG)" });
    await expect(png).toHaveAttribute("href", "/grafici/mappa.png?provincia=LE");
    const picture = await page.request.get("/grafici/mappa.png?provincia=LE");
    expect(picture.status()).toBe(200);
    expect(picture.headers()["content-type"]).toBe("image/png");
    expect((await picture.body()).subarray(1, 4).toString()).toBe("PNG");
    await expect(page.getByRole("link", { name: "Scarica questi comuni in CSV" })).toHaveAttribute(
      "href",
      "/export/comuni.csv?provincia=LE",
    );
    await expect(page.getByRole("link", { name: "in Excel (XLSX)" })).toHaveAttribute(
      "href",
      "/export/comuni.xlsx?provincia=LE",
    );
    // The assessors' report of the same filter: a PDF, named with the data's date.
    const report = page.getByRole("link", { name: "Rapporto da stampare (PDF)" });
    await expect(report).toHaveAttribute("href", "/report.pdf?provincia=LE");
    const pdf = await page.request.get("/report.pdf?provincia=LE");
    expect(pdf.status()).toBe(200);
    expect(pdf.headers()["content-type"]).toBe("application/pdf");
    expect(pdf.headers()["content-disposition"]).toMatch(/^inline; filename="rapporto-dati-dimostrativi-\d{4}-\d{2}-\d{2}\.pdf"$/);
    expect((await pdf.body()).subarray(0, 5).toString()).toBe("%PDF-");

    if (jsEnabled(testInfo)) {
      const mark = await page.evaluate(() => (window as unknown as { __mark?: number }).__mark);
      expect(mark, "the filter updated the page in place").toBe(42);
    }
  });

  test("a comune on the map opens its page", async ({ page }, testInfo) => {
    await visit(page, "/?provincia=BA", testInfo);
    const bari = page.locator('.mappa-svg a[href="/comuni/072006"]');
    await expect(bari).toHaveAttribute("aria-label", /^Bari: /);
    await expect(bari.locator("title")).toHaveText(/^Bari: /);
    // By keyboard, as anyone can: focus the comune and press Enter.
    await bari.focus();
    await page.keyboard.press("Enter");
    await expect(page).toHaveURL(/\/comuni\/072006$/);
    await expect(page.getByRole("heading", { level: 1, name: "Bari", exact: true })).toBeVisible();
  });

  test("each chart has its table and its SVG download", async ({ page, request }, testInfo) => {
    await visit(page, "/", testInfo);
    for (const name of ["adesione", "obiettivi", "servizi", "contributo"]) {
      const figure = page.locator(`figure[data-grafico="${name}"]`);
      await expect(figure.locator("svg").first(), name).toBeVisible();
      await expect(figure.locator("figcaption"), name).not.toBeEmpty();
      await expect(figure.locator("details table tbody tr").first(), name).toBeAttached();
      const href = await figure.getByRole("link", { name: /\(SVG\)/ }).getAttribute("href");
      const response = await request.get(href!);
      expect(response.status(), name).toBe(200);
      expect(response.headers()["content-type"]).toContain("image/svg+xml");
    }
    // The series' points as data: its table and its CSV (linked under the table) hold the same
    // points, every one.
    const servizi = page.locator('figure[data-grafico="servizi"]');
    const csvHref = await servizi.locator('a[href^="/grafici/servizi.csv"]').getAttribute("href");
    const csv = await request.get(csvHref!);
    expect(csv.status()).toBe(200);
    expect(csv.headers()["content-type"]).toBe("text/csv; charset=utf-8");
    const lines = (await csv.text()).trim().split(/\r?\n/);
    expect(lines[0]).toBe("giorno,servizi_pagopa_attivi,servizi_io_attivi");
    expect(lines.length - 1).toBeGreaterThanOrEqual(20);
    await expect(servizi.locator("details table tbody tr")).toHaveCount(lines.length - 1);
    await expect(page.getByText("ISTAT, Openpolis")).toBeVisible();
  });
});

async function expectCleanAxe(target: Page) {
  const results = await new AxeBuilder({ page: target })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
    .analyze();
  const violations = results.violations.map(
    (v) => `${v.id} [${v.impact}] ${v.help}: ` + v.nodes.map((n) => JSON.stringify(n.target)).join(", "),
  );
  expect(violations, `axe violations on /:\n${violations.join("\n")}`).toEqual([]);
}

test.describe("accessibility of the dashboard", () => {
  test("no violations on / as anonymous", async ({ page, browser, baseURL }, testInfo) => {
    await withScriptablePage(page, browser, baseURL, testInfo, async (target) => {
      await visit(target, "/", testInfo);
      await expectCleanAxe(target);
    });
  });

  test("no violations on / as assessore", async ({ page, browser, baseURL }, testInfo) => {
    await withScriptablePage(page, browser, baseURL, testInfo, async (target) => {
      await signIn(target, testInfo, DEMO_ASSESSORE);
      await visit(target, "/", testInfo);
      await expect(target.locator(".account-nome")).toContainText("assessore");
      await expectCleanAxe(target);
    });
  });
});
