// Open data: the /opendata page reached from the main navigation, its links to the CSV, the
// API and the DCAT-AP_IT catalogue, and the API answering the same counts as the list page,
// with JavaScript on and off, with axe-core's WCAG 2.1 checks.

import { test, expect, visit, expectPageShell, expectNoAxeViolations } from "./helpers";

test.describe("open data", () => {
  test("the page lists the datasets with licence, dates and formats", async ({ page }, testInfo) => {
    await visit(page, "/", testInfo);
    const nav = page.getByRole("navigation", { name: "Sezioni principali" });
    await nav.getByRole("link", { name: "Dati aperti" }).click();
    await expect(page).toHaveURL(/\/opendata$/);
    await expectPageShell(page);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Dati aperti");
    const main = page.getByRole("main");
    await expect(main.getByRole("link", { name: /Creative Commons Attribuzione 4\.0/ })).toHaveAttribute(
      "href",
      "https://creativecommons.org/licenses/by/4.0/",
    );
    // Dates in the Italian form.
    await expect(main.locator("dl.dati-catalogo dd").first()).toHaveText(/^\d{2}\/\d{2}\/\d{4}$/);
    const comuni = main.getByRole("region", { name: "Comuni della Puglia nel Fondo Innovazione 2020-2021" });
    const table = comuni.getByRole("table", { name: /Formati disponibili/ });
    // The contract CSV and the one for Excel, the workbook, the JSON file and the API.
    await expect(table.getByRole("rowheader", { name: "CSV", exact: true })).toHaveCount(2);
    await expect(table.getByRole("rowheader", { name: "XLSX", exact: true })).toHaveCount(1);
    await expect(table.getByRole("link", { name: "/export/comuni.csv" })).toHaveAttribute("href", "/export/comuni.csv");
    await expect(main.getByRole("link", { name: "/opendata/catalogo.rdf" })).toBeVisible();
  });

  test("the API counts what the list shows, and says errors in JSON", async ({ page, request }, testInfo) => {
    await visit(page, "/comuni?provincia=TA&adesione=aderente", testInfo);
    const sentence = await page.getByText(/comuni? trovat[oi]/).first().textContent();
    const shown = Number(sentence!.match(/^(\d+)/)![1]);
    const api = await request.get("/api/v1/comuni?provincia=TA&adesione=aderente");
    expect(api.status()).toBe(200);
    const body = await api.json();
    expect(body.totale).toBe(shown);
    expect(body.metadati.dati_dimostrativi).toBe(true);
    const missing = await request.get("/api/v1/comuni/999999");
    expect(missing.status()).toBe(404);
    expect((await missing.json()).errore.messaggio).toContain("999999");
    const doc = await request.get("/api/v1/openapi.json");
    expect((await doc.json()).paths["/api/v1/comuni"]).toBeTruthy();
    const rdf = await request.get("/opendata/catalogo.rdf");
    expect(rdf.headers()["content-type"]).toContain("application/rdf+xml");
    expect(await rdf.text()).toContain("dcatapit:Dataset");
  });

  test("no axe violations on /opendata", async ({ page, browser, baseURL }, testInfo) => {
    await expectNoAxeViolations(page, browser, baseURL, "/opendata", testInfo);
  });
});
