import type { Page, TestInfo } from "@playwright/test";
import {
  test,
  expect,
  expectHydrationState,
  expectNoAxeViolations,
  expectPageShell,
  visit,
} from "./helpers";

// /comuni as a search tool (issue: search, sort, filters, pagination, export of the view).
// Everything is plain links and a GET form, so the same steps run with JavaScript on and off;
// every state lives in the URL.

const comuniTable = (page: Page) => page.getByRole("table", { name: /Comuni/ });
// Body rows are those with data cells; the header row has column headers only.
const bodyRows = (page: Page) =>
  comuniTable(page).getByRole("row").filter({ has: page.getByRole("cell") });
const countSentence = (page: Page) => page.getByRole("main").getByRole("status");
const searchBox = (page: Page) => page.getByRole("searchbox", { name: "Cerca per nome o codice" });
/** The column header (a sorting link) whose visible label is `label`. */
const sortLink = (page: Page, label: string) =>
  comuniTable(page).getByRole("columnheader").getByRole("link", { name: new RegExp(`^${label}\\b`) });
/** The names in the first column, in order. */
const names = (page: Page) => comuniTable(page).locator("tbody th[scope=row]").allTextContents();

async function search(page: Page, testInfo: TestInfo, text: string) {
  await searchBox(page).fill(text);
  await page.getByRole("button", { name: "Applica i filtri" }).click();
  await expect(page).toHaveURL(/[?&]q=/);
  await expectHydrationState(page, testInfo);
}

test.describe("comuni search", () => {
  test("finds comuni by name without accents or case, and by code", async ({ page }, testInfo) => {
    await visit(page, "/comuni", testInfo);
    await expectPageShell(page);

    await search(page, testInfo, "nardo");
    await expect(countSentence(page)).toHaveText("1 comune trovato (pagina 1 di 1).");
    await expect(bodyRows(page)).toHaveCount(1);
    await expect(comuniTable(page).getByRole("link", { name: "Nardò", exact: true })).toBeVisible();
    // The box keeps what was searched.
    await expect(searchBox(page)).toHaveValue("nardo");

    await search(page, testInfo, "SANT AGATA");
    await expect(comuniTable(page).getByRole("link", { name: "Sant'Agata di Puglia" })).toBeVisible();
    await expect(comuniTable(page).getByRole("link", { name: "Monte Sant'Angelo" })).toHaveCount(0);

    await search(page, testInfo, "073013");
    await expect(bodyRows(page)).toHaveCount(1);
    await comuniTable(page).getByRole("link", { name: "Martina Franca", exact: true }).click();
    await expect(page).toHaveURL(/\/comuni\/073013$/);
    await expectHydrationState(page, testInfo);
  });

  test("a search with no result says so", async ({ page }, testInfo) => {
    await visit(page, "/comuni?q=zzzz", testInfo);
    await expect(countSentence(page)).toHaveText("0 comuni trovati (pagina 1 di 1).");
    await expect(page.getByText("Nessun comune corrisponde alla ricerca e ai filtri scelti.")).toBeVisible();
  });

  test("search and filters combine, and a bad value is explained", async ({ page }, testInfo) => {
    await visit(page, "/comuni", testInfo);
    await page.getByRole("combobox", { name: "Provincia", exact: true }).selectOption("BR");
    await page.getByRole("combobox", { name: "Primo step", exact: true }).selectOption("raggiunto");
    await search(page, testInfo, "san");
    await expect(page).toHaveURL(/[?&]provincia=BR(&|$)/);
    await expect(page).toHaveURL(/[?&]primo_step=raggiunto(&|$)/);
    // The selects show the filters applied.
    await expect(page.getByRole("combobox", { name: "Provincia", exact: true })).toHaveValue("BR");
    const rows = await bodyRows(page).count();
    expect(rows).toBeGreaterThan(0);
    for (const cell of await comuniTable(page).locator("tbody tr td:nth-child(3)").allTextContents()) {
      expect(cell).toBe("BR");
    }
    for (const name of await names(page)) {
      expect(name.toLowerCase()).toContain("san");
    }

    const response = await visit(page, "/comuni?bloccato=forse", testInfo);
    expect(response.status()).toBe(400);
    await expect(page.getByRole("main")).toContainText("Valore non valido per «bloccato»: «forse»");
  });
});

test.describe("comuni sorting and pages", () => {
  test("a header sorts, a second click reverses, with aria-sort", async ({ page }, testInfo) => {
    await visit(page, "/comuni", testInfo);
    // By ISTAT code by default.
    await expect(comuniTable(page).locator("th[aria-sort]")).toHaveCount(1);
    await expect(comuniTable(page).locator("th[aria-sort]")).toHaveAttribute("aria-sort", "ascending");
    await expect(comuniTable(page).locator("th[aria-sort]")).toContainText("Codice ISTAT");

    await sortLink(page, "Popolazione").click();
    await expect(page).toHaveURL(/[?&]ordina=popolazione(&|$)/);
    await expectHydrationState(page, testInfo);
    const sorted = comuniTable(page).locator("th[aria-sort]");
    await expect(sorted).toContainText("Popolazione");
    await expect(sorted).toHaveAttribute("aria-sort", "ascending");

    await sortLink(page, "Popolazione").click();
    await expect(page).toHaveURL(/[?&]verso=desc(&|$)/);
    await expectHydrationState(page, testInfo);
    await expect(comuniTable(page).locator("th[aria-sort]")).toHaveAttribute("aria-sort", "descending");
    // The largest first: Bari, Taranto, Foggia.
    expect((await names(page)).slice(0, 3)).toEqual(["Bari", "Taranto", "Foggia"]);
  });

  test("pages keep the filters and the sort", async ({ page }, testInfo) => {
    await visit(page, "/comuni?provincia=LE&ordina=nome", testInfo);
    await expect(countSentence(page)).toHaveText("96 comuni trovati (pagina 1 di 2).");
    await expect(bodyRows(page)).toHaveCount(50);
    const pagination = page.getByRole("navigation", { name: "Paginazione" });
    await expect(pagination.locator("[aria-current=page]")).toHaveText("1");

    await pagination.getByRole("link", { name: "Pagina successiva" }).click();
    await expect(page).toHaveURL(/[?&]pagina=2(&|$)/);
    await expect(page).toHaveURL(/[?&]provincia=LE(&|$)/);
    await expect(page).toHaveURL(/[?&]ordina=nome(&|$)/);
    await expectHydrationState(page, testInfo);
    await expect(countSentence(page)).toHaveText("96 comuni trovati (pagina 2 di 2).");
    await expect(bodyRows(page)).toHaveCount(46);
    await expect(pagination.locator("[aria-current=page]")).toHaveText("2");
    const second = await names(page);
    // Names in alphabetical order, accents ignored (the page ends with Zollino).
    expect(second[second.length - 1]).toBe("Zollino");

    await pagination.getByRole("link", { name: "Pagina 1", exact: true }).click();
    await expect(page).toHaveURL(/[?&]ordina=nome(&|$)/);
    await expect(page).not.toHaveURL(/pagina=/);
    await expect(countSentence(page)).toHaveText("96 comuni trovati (pagina 1 di 2).");
  });

  test("the export button downloads exactly this view, every page", async ({ page, request }, testInfo) => {
    await visit(page, "/comuni?provincia=LE&ordina=popolazione&verso=desc&pagina=2", testInfo);
    const button = page.getByRole("link", { name: "Esporta questa vista in CSV" });
    await expect(button).toHaveClass(/btn btn-outline-primary/);
    const href = await button.getAttribute("href");
    expect(href).toBe("/export/comuni.csv?provincia=LE&ordina=popolazione&verso=desc");

    const response = await request.get(href!);
    expect(response.status()).toBe(200);
    expect(response.headers()["content-type"]).toContain("text/csv");
    // No quoted fields in these columns: a plain split is enough here.
    const lines = (await response.text()).trim().split(/\r?\n/);
    expect(lines).toHaveLength(1 + 96);
    const codes = lines.slice(1).map((l) => l.split(",")[0]);
    // The page's rows are rows 51–96 of the file, in the same order.
    const pageCodes = await comuniTable(page).locator("tbody tr td:nth-child(2)").allTextContents();
    expect(codes.slice(50)).toEqual(pageCodes);
    expect(lines[1]).toContain(",Lecce,");

    // The same view for Excel with Italian settings, and as JSON.
    const excel = page.getByRole("link", { name: "In CSV per Excel" });
    expect(await excel.getAttribute("href")).toBe("/export/comuni-excel.csv?provincia=LE&ordina=popolazione&verso=desc");
    const excelResponse = await request.get((await excel.getAttribute("href"))!);
    const bytes = await excelResponse.body();
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const excelLines = bytes.subarray(3).toString("utf-8").trim().split(/\r?\n/);
    expect(excelLines.slice(1).map((l) => l.split(";")[0])).toEqual(codes);
    const json = page.getByRole("link", { name: "In JSON" });
    const jsonResponse = await request.get((await json.getAttribute("href"))!);
    expect(jsonResponse.headers()["content-disposition"]).toMatch(/filename="comuni-dati-dimostrativi-\d{4}-\d{2}-\d{2}\.json"/);
    const body = await jsonResponse.json();
    expect(body.comuni.map((c: { codice_istat: string }) => c.codice_istat)).toEqual(codes);
  });
});

test.describe("comuni accessibility (axe, WCAG 2.1 AA)", () => {
  for (const path of ["/comuni?q=san&ordina=popolazione&verso=desc", "/comuni?provincia=LE&ordina=nome&pagina=2"]) {
    test(`no violations on ${path}`, async ({ page, browser, baseURL }, testInfo) => {
      await expectNoAxeViolations(page, browser, baseURL, path, testInfo);
    });
  }
});
