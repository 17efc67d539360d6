import * as path from "path";
import type { Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import {
  test,
  expect,
  expectHydrationState,
  expectPageShell,
  withScriptablePage,
  visit,
  signIn,
  REAL_BASE_URL,
  REAL_COMUNE,
  REAL_REGIONE,
} from "./helpers";

// Imports: the Region uploads a CSV with a mistake and sees the problem by row and column with
// nothing changed, then a clean file, reads what would change, applies it and finds the change
// on the comune's page. The plain multipart form works the same with JavaScript on and off.
//
// They run on the second server (its database holds real records: see REAL_BASE_URL), so the
// demo server's figures never move. Each project adds a SPID/CIE service of its own name to a
// comune that did not adhere (the first in the API's list, Bari excepted).

async function nonAdherent(request: import("@playwright/test").APIRequestContext) {
  const answer = await request.get("/api/v1/comuni?adesione=non_aderente&per_pagina=5");
  expect(answer.status()).toBe(200);
  const comuni: { codice_istat: string; denominazione: string }[] = (await answer.json()).comuni;
  const c = comuni.find((x) => x.codice_istat !== "072006");
  if (!c) throw new Error("the data has no non-adherent comune");
  return c;
}

test.describe("imports /importazioni", () => {
  // On the server with real records: an applied import would end the other server's demo
  // (its accounts and the label), which the other tests rely on.
  test.use({ baseURL: REAL_BASE_URL });

  test("the public and comuni cannot import", async ({ page }, testInfo) => {
    expect((await visit(page, "/importazioni", testInfo)).status()).toBe(401);
    await signIn(page, testInfo, REAL_COMUNE);
    await expect(page).toHaveURL(/\/profilo$/);
    const nav = page.getByRole("navigation", { name: "Sezioni principali" });
    await expect(nav.getByRole("link", { name: "Importazioni" })).toHaveCount(0);
    const response = await visit(page, "/importazioni", testInfo);
    expect(response.status()).toBe(403);
    await expect(page.getByRole("alert")).toContainText("Solo i referenti della Regione possono importare dati.");
  });

  test("a file with a mistake is reported, a clean one is applied", async ({ page }, testInfo) => {
    const comune = await nonAdherent(page.request);
    const service = `Prova importazione ${testInfo.project.name}`;
    await signIn(page, testInfo, REAL_REGIONE);
    await expect(page).toHaveURL(/\/profilo$/);
    const nav = page.getByRole("navigation", { name: "Sezioni principali" });
    await nav.getByRole("link", { name: "Importazioni" }).click();
    await expect(page).toHaveURL(/\/importazioni$/);
    await expectHydrationState(page, testInfo);
    await expectPageShell(page, false);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Importazioni");

    // The code without its leading zero, as Excel leaves it, and a misspelt name.
    const code = comune.codice_istat.replace(/^0+/, "");
    const bad = `codice_istat;denominazione;piattaforma;codice;nome;spid_dal\n${code};Nessunluogo;spid_cie;;${service};01/03/2021\n`;
    await page.getByLabel("File CSV o XLSX (obbligatorio)").setInputFiles({
      name: "servizi.csv",
      mimeType: "text/csv",
      buffer: Buffer.from(bad),
    });
    await page.getByRole("button", { name: "Prova l'importazione" }).click();
    await expect(page).toHaveURL(/\/importazioni\/\d+$/);
    await expectHydrationState(page, testInfo);
    await expect(page.getByRole("alert")).toContainText("Il file non può essere importato: 1 problema");
    const problems = page.getByRole("table", { name: "1 problema nel file" });
    // Table | Row | Column | Problem.
    const cells = problems.getByRole("row").nth(1).getByRole("cell");
    await expect(cells).toHaveText([
      "servizi.csv",
      "2",
      "denominazione",
      `Il nome «Nessunluogo» non corrisponde al codice ${comune.codice_istat}, che è ${comune.denominazione}.`,
    ]);
    await expect(page.getByRole("button", { name: /Applica l'importazione/ })).toHaveCount(0);

    await page.getByRole("link", { name: "Carica un altro file" }).click();
    await expect(page).toHaveURL(/\/importazioni$/);
    const good = bad.replace("Nessunluogo", comune.denominazione.toUpperCase());
    await page.getByLabel("File CSV o XLSX (obbligatorio)").setInputFiles({
      name: "servizi.csv",
      mimeType: "text/csv",
      buffer: Buffer.from(good),
    });
    await page.getByRole("button", { name: "Prova l'importazione" }).click();
    await expect(page).toHaveURL(/\/importazioni\/\d+$/);
    await expectHydrationState(page, testInfo);
    await expect(page.getByText("Esito: 1 aggiunto, 0 modificati, 0 invariati.")).toBeVisible();
    const changes = page.getByRole("table", { name: "Record aggiunti, modificati o rimossi" });
    await expect(changes.getByRole("row").nth(1)).toContainText(`SPID/CIE «${service}»`);
    await expect(changes.getByRole("row").nth(1)).toContainText("Aggiunto");
    await page.getByRole("button", { name: "Applica l'importazione (1 modifica)" }).click();
    await expect(page).toHaveURL(/\/importazioni\/\d+\?applicata=1$/);
    await expect(page.getByRole("status").filter({ hasText: "Importazione applicata" })).toBeVisible();
    await expect(page.getByRole("button", { name: /Applica l'importazione/ })).toHaveCount(0);

    // The service is on the comune's page, and the trail names the import.
    await visit(page, `/comuni/${comune.codice_istat}`, testInfo);
    await expect(page.getByRole("rowheader", { name: service })).toBeVisible();
    await visit(page, `/comuni/${comune.codice_istat}/registro`, testInfo);
    // The trail names the batch, not its file (a file name can carry a person's name; it stays on
    // the Region's import pages).
    await expect(page.getByText(/Importazione n\. \d+/).first()).toBeVisible();
    await expect(page.getByText("servizi.csv")).toHaveCount(0);
  });

  test("PA digitale 2026 projects from the published file show on the comune's page", async ({
    page,
    browser,
    baseURL,
  }, testInfo) => {
    await signIn(page, testInfo, REAL_REGIONE);
    await expect(page).toHaveURL(/\/profilo$/);
    await visit(page, "/importazioni", testInfo);
    // The sample in the published layout (the Rust tests read it too): four projects of Puglia
    // and one of Campania, which is skipped.
    const sample = path.resolve(__dirname, "../../src/integration/fixtures/padigitale2026-candidature.csv");
    await page.getByLabel("File CSV o XLSX (obbligatorio)").setInputFiles(sample);
    await page.getByRole("button", { name: "Prova l'importazione" }).click();
    await expect(page).toHaveURL(/\/importazioni\/\d+$/);
    await expect(page.getByText("1 righe di altre regioni sono state ignorate.", { exact: false })).toBeVisible();
    // The first project (JavaScript on) applies it; the second finds nothing left to change.
    const apply = page.getByRole("button", { name: "Applica l'importazione (4 modifiche)" });
    if ((await apply.count()) > 0) {
      await apply.click();
      await expect(page).toHaveURL(/applicata=1$/);
    } else {
      await expect(page.getByText("Il file non cambia nulla")).toBeVisible();
    }
    await visit(page, "/comuni/072021", testInfo);
    const table = page.getByRole("table", { name: "Progetti finanziati dal PNRR (misure 1.4.3 e 1.4.4)" });
    const row = table.getByRole("row").nth(1);
    await expect(row.getByRole("rowheader")).toHaveText("1.4.3 Adozione PagoPA e AppIO");
    await expect(row.getByRole("cell")).toHaveText([
      "1.4.3 - pagoPA - Comuni - Aprile 2022",
      "F61F22002330006",
      "€ 16.389",
      "Rinuncia",
      "07/12/2022",
      "12/12/2022",
    ]);
    await withScriptablePage(page, browser, baseURL, testInfo, async (target) => {
      await visit(target, "/comuni/072021", testInfo);
      const results = await new AxeBuilder({ page: target })
        .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
        .analyze();
      expect(results.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
    });
  });

  test("the import page, a refused upload and a report with problems pass axe", async ({
    page,
    browser,
    baseURL,
  }, testInfo) => {
    const audit = async (target: Page, what: string) => {
      const results = await new AxeBuilder({ page: target })
        .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
        .analyze();
      const violations = results.violations.map(
        (v) => `${v.id} [${v.impact}] ${v.help}: ` + v.nodes.map((n) => JSON.stringify(n.target)).join(", "),
      );
      expect(violations, `axe violations on ${what}:\n${violations.join("\n")}`).toEqual([]);
    };
    await withScriptablePage(page, browser, baseURL, testInfo, async (target) => {
      await signIn(target, testInfo, REAL_REGIONE);
      await expect(target).toHaveURL(/\/profilo$/);
      await visit(target, "/importazioni", testInfo);
      await audit(target, "the import page");
      // A file that is no spreadsheet: refused with the reason next to the field.
      await target.getByLabel("File CSV o XLSX (obbligatorio)").setInputFiles({
        name: "vecchio.xls",
        mimeType: "application/vnd.ms-excel",
        buffer: Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 1, 2, 3]),
      });
      await target.getByRole("button", { name: "Prova l'importazione" }).click();
      await expect(target.getByRole("alert").first()).toContainText("Il file non è stato caricato.");
      await expect(target.getByText("Errore: Questo formato non è letto")).toBeVisible();
      await audit(target, "a refused upload");
      // A report with a problem and a change.
      await target.getByLabel("File CSV o XLSX (obbligatorio)").setInputFiles({
        name: "adesioni.csv",
        mimeType: "text/csv",
        buffer: Buffer.from("codice_istat;adesione;data_adesione\n99999;aderente;30/10/2020\n"),
      });
      await target.getByRole("button", { name: "Prova l'importazione" }).click();
      await expect(target).toHaveURL(/\/importazioni\/\d+$/);
      await expect(target.getByRole("alert")).toContainText("Il file non può essere importato");
      await audit(target, "a report with problems");
    });
  });
});
