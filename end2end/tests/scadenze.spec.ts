import AxeBuilder from "@axe-core/playwright";
import {
  test,
  expect,
  expectHydrationState,
  visit,
  expectPageShell,
  withScriptablePage,
  signIn,
  DEMO_COMUNE,
  DEMO_REGIONE,
} from "./helpers";

// /scadenze: overdue and due-soon objectives with the comuni's open blockers, for signed-in
// users only. The demo data is 2020-21: on 15/02/2021 the step-1 objectives (due 28/02/2021)
// are 13 days away, on 01/03/2021 they are one day late.

test.describe("deadlines /scadenze", () => {
  test("the public is asked to sign in", async ({ page }, testInfo) => {
    const response = await visit(page, "/scadenze?al=2021-02-15", testInfo);
    expect(response.status()).toBe(401);
    await expect(page.getByRole("alert")).toContainText("Per questa sezione occorre accedere");
    await expect(page.getByRole("main").getByRole("link", { name: "Accedi" })).toBeVisible();
    await expect(page.getByRole("table")).toHaveCount(0);
    // No navigation link for the public.
    const nav = page.getByRole("navigation", { name: "Sezioni principali" });
    await expect(nav.getByRole("link", { name: "Scadenze" })).toHaveCount(0);
    const csv = await page.request.get("/export/scadenze.csv?al=2021-02-15");
    expect(csv.status()).toBe(401);
  });

  test("the Region sees both tables, changes the date with the form, downloads the CSV", async ({ page }, testInfo) => {
    await signIn(page, testInfo, DEMO_REGIONE);
    await expect(page).toHaveURL(/\/profilo$/);
    const nav = page.getByRole("navigation", { name: "Sezioni principali" });
    await nav.getByRole("link", { name: "Scadenze" }).click();
    await expect(page).toHaveURL(/\/scadenze$/);
    await expectHydrationState(page, testInfo);
    await expectPageShell(page);

    // The form is a plain GET form: the same with and without JavaScript.
    await page.getByLabel("Situazione al giorno").fill("2021-02-15");
    await page.getByRole("button", { name: "Mostra" }).click();
    await expect(page).toHaveURL(/\/scadenze\?al=2021-02-15(&provincia=)?(&ordina=scadenza)?$/);
    await expectHydrationState(page, testInfo);

    const overdue = page.getByRole("table", { name: "Obiettivi scaduti e non raggiunti al 15/02/2021" });
    await expect(overdue).toBeVisible();
    await expect(overdue).toContainText("Nessun obiettivo scaduto e non raggiunto.");
    const dueSoon = page.getByRole("table", { name: /in scadenza entro 30 giorni dal 15\/02\/2021/ });
    await expect(dueSoon).toBeVisible();
    const rows = dueSoon.locator("tbody tr");
    expect(await rows.count()).toBeGreaterThan(0);
    const first = rows.first();
    await expect(first).toContainText("28/02/2021");
    await expect(first).toContainText("In scadenza tra 13 giorni");
    // The comune's page of the same day.
    await expect(first.getByRole("link")).toHaveAttribute("href", /^\/comuni\/\d{6}\?al=2021-02-15$/);
    // Counts above the tables, in words.
    await expect(page.getByText(/^\d+ obiettiv[oi] in scadenza, in \d+ comun[ei]\.$/)).toBeVisible();

    // A day after the deadline the same objectives are overdue.
    await visit(page, "/scadenze?al=2021-03-01", testInfo);
    await expect(page.getByRole("table", { name: /scaduti e non raggiunti al 01\/03\/2021/ })).toContainText(
      "Scaduto da 1 giorno",
    );

    // The province filter, then the export of exactly this view.
    await visit(page, "/scadenze?al=2021-02-15", testInfo);
    await page.getByLabel("Provincia", { exact: true }).selectOption("TA");
    await page.getByRole("button", { name: "Mostra" }).click();
    await expect(page).toHaveURL(/provincia=TA/);
    await expectHydrationState(page, testInfo);
    const provinces = await page.locator("table tbody tr td:nth-child(2)").allTextContents();
    expect(provinces.every((p) => p === "TA")).toBe(true);
    const exports = page.getByTestId("esporta-scadenze");
    await expect(exports).toContainText("Scarica le scadenze");
    const link = exports.getByRole("link", { name: "CSV", exact: true });
    await expect(link).toHaveAttribute("href", "/export/scadenze.csv?al=2021-02-15&provincia=TA");
    const csv = await page.request.get("/export/scadenze.csv?al=2021-02-15&provincia=TA");
    expect(csv.status()).toBe(200);
    expect(csv.headers()["content-disposition"]).toMatch(/scadenze-.*2021-02-15\.csv/);
    const lines = (await csv.text()).trim().split("\n");
    expect(lines[0]).toBe(
      "codice_istat,denominazione,sigla_provincia,stato,giorni,piattaforma,obiettivo," +
        "descrizione_obiettivo,scadenza,ostacoli_aperti,descrizione_ostacoli,previsione,a_rischio",
    );
    // The same rows for Excel with Italian settings.
    await expect(exports.getByRole("link", { name: "CSV per Excel" })).toHaveAttribute(
      "href",
      "/export/scadenze-excel.csv?al=2021-02-15&provincia=TA",
    );
    const excel = await page.request.get("/export/scadenze-excel.csv?al=2021-02-15&provincia=TA");
    const bytes = await excel.body();
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const excelLines = bytes.subarray(3).toString("utf-8").trim().split(/\r?\n/);
    expect(excelLines).toHaveLength(lines.length);
    expect(excelLines[0]).toBe(lines[0].replaceAll(",", ";"));
    // And as a workbook and as JSON, with the same filter.
    await expect(exports.getByRole("link", { name: "Excel (XLSX)" })).toHaveAttribute(
      "href",
      "/export/scadenze.xlsx?al=2021-02-15&provincia=TA",
    );
    const json = await page.request.get("/export/scadenze.json?al=2021-02-15&provincia=TA");
    expect(json.status()).toBe(200);
    const document = await json.json();
    expect(document.totale).toBe(lines.length - 1);
    expect(document.righe.every((r: { sigla_provincia: string }) => r.sigla_provincia === "TA")).toBe(true);
  });

  test("each long table has its own pages, the others stay where they are", async ({ page }, testInfo) => {
    await signIn(page, testInfo, DEMO_REGIONE);
    await expect(page).toHaveURL(/\/profilo$/);
    // 01/03/2021: the step-1 objectives not reached are a day late, more than a page of them.
    await visit(page, "/scadenze?al=2021-03-01", testInfo);
    const section = page.getByRole("region", { name: "Obiettivi scaduti e non raggiunti" });
    const overdue = section.getByRole("table", { name: /scaduti e non raggiunti al 01\/03\/2021/ });
    await expect(overdue.locator("tbody tr")).toHaveCount(50);
    await expect(section.getByText(/^Pagina 1: righe 1–50 di \d+\.$/)).toBeVisible();
    const pager = section.getByRole("navigation", { name: "Paginazione degli obiettivi scaduti" });
    await pager.getByRole("link", { name: "Pagina successiva" }).click();
    await expect(page).toHaveURL(/\/scadenze\?al=2021-03-01&pagina_scaduti=2#scaduti$/);
    await expectHydrationState(page, testInfo);
    await expect(section.getByText(/^Pagina 2: righe 51–\d+ di \d+\.$/)).toBeVisible();
    await expect(
      section.getByRole("navigation", { name: "Paginazione degli obiettivi scaduti" }).getByRole("link", {
        name: "Pagina 2",
      }),
    ).toHaveAttribute("aria-current", "page");
    // The count above the table is the whole table's, on every page.
    await expect(section.getByText(/^\d+ obiettivi scaduti e non raggiunti, in \d+ comuni\.$/)).toBeVisible();
  });

  test("a bad date is refused in words and kept in the form", async ({ page }, testInfo) => {
    await signIn(page, testInfo, DEMO_REGIONE);
    await expect(page).toHaveURL(/\/profilo$/);
    const response = await visit(page, "/scadenze?al=2021-02-30", testInfo);
    expect(response.status()).toBe(400);
    await expect(page.getByRole("alert")).toContainText("Data non valida: «2021-02-30»");
    await expect(page.getByLabel("Provincia", { exact: true })).toBeVisible();
  });

  test("a comune's user sees only its own comune", async ({ page }, testInfo) => {
    await signIn(page, testInfo, DEMO_COMUNE);
    await expect(page).toHaveURL(/\/profilo$/);
    await visit(page, "/scadenze?al=2021-02-15", testInfo);
    await expect(page.getByText("Sono mostrati solo i comuni per cui operi.")).toBeVisible();
    const comuni = await page.locator("table tbody th[scope=row]").allTextContents();
    // The demo's comune user operates for Bari and Altamura: Bari is due on 28/02/2021,
    // Altamura's final objectives are forecast a rischio; no other comune shows.
    expect(comuni.length).toBeGreaterThan(0);
    expect(comuni.every((name) => ["Bari", "Altamura"].includes(name.trim()))).toBe(true);
  });

  test("has no axe violations", async ({ page, browser, baseURL }, testInfo) => {
    // Signed in inside the page axe runs in (with JavaScript off, a separate context).
    await withScriptablePage(page, browser, baseURL, testInfo, async (target) => {
      await signIn(target, testInfo, DEMO_REGIONE);
      await expect(target).toHaveURL(/\/profilo$/);
      for (const path of ["/scadenze?al=2021-02-15", "/scadenze?al=2021-03-01", "/scadenze?al=2021-02-30"]) {
        await visit(target, path, testInfo);
        const results = await new AxeBuilder({ page: target })
          .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
          .analyze();
        const violations = results.violations.map(
          (v) => `${v.id} [${v.impact}] ${v.help}: ` + v.nodes.map((n) => JSON.stringify(n.target)).join(", "),
        );
        expect(violations, `axe violations on ${path}:\n${violations.join("\n")}`).toEqual([]);
      }
    });
  });
});
