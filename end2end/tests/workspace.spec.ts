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

// The regional managers' workspace: /comuni/{codice}/gestione (plain POST forms, the same with
// JavaScript on and off), the trail pages and the comune's proposals. The writes here never
// touch what the dashboard's figures count (adhesions, services): blockers, notes and
// verifications only, so the other specs keep the press release's figures.

const BARI = "072006";

test.describe("workspace /comuni/{codice}/gestione", () => {
  test("the public and assessors cannot open it", async ({ page }, testInfo) => {
    const response = await visit(page, `/comuni/${BARI}/gestione`, testInfo);
    expect(response.status()).toBe(401);
    await expect(page.getByRole("alert")).toContainText("Per questa sezione occorre accedere");
    await expect(page.locator("form.modulo-gestione")).toHaveCount(0);
    const trail = await visit(page, "/registro", testInfo);
    expect(trail.status()).toBe(401);
  });

  test("the Region records a blocker: refused in words, then saved and on the trail", async ({ page }, testInfo) => {
    await signIn(page, testInfo, DEMO_REGIONE);
    await expect(page).toHaveURL(/\/profilo$/);
    await visit(page, `/comuni/${BARI}`, testInfo);
    await page.getByRole("link", { name: "Gestisci i dati del comune" }).click();
    await expect(page).toHaveURL(new RegExp(`/comuni/${BARI}/gestione$`));
    await expectHydrationState(page, testInfo);
    await expectPageShell(page);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Gestione di Bari");

    const form = page.locator("form#blocco-nuovo");
    // Refused: no description, a date that is not one.
    await form.getByLabel("Categoria (obbligatorio)").selectOption("delibera");
    await form.getByLabel("Dal giorno (obbligatorio)").fill("2021-03-10");
    await form.getByLabel("Descrizione (obbligatorio)").fill("   ");
    await form.getByRole("button", { name: "Registra il blocco" }).click();
    await expectHydrationState(page, testInfo);
    const refused = page.locator("form#blocco-nuovo");
    await expect(refused.getByRole("alert")).toContainText("Le modifiche non sono state salvate");
    await expect(refused.getByText("Errore: Indicare la descrizione del blocco.")).toBeVisible();
    const description = refused.getByLabel("Descrizione (obbligatorio)");
    await expect(description).toHaveAttribute("aria-invalid", "true");
    // What was typed is still there.
    await expect(refused.getByLabel("Dal giorno (obbligatorio)")).toHaveValue("2021-03-10");

    const text = `Manca la delibera di giunta (${testInfo.project.name})`;
    await description.fill(text);
    await refused.getByRole("button", { name: "Registra il blocco" }).click();
    await expectHydrationState(page, testInfo);
    await expect(page).toHaveURL(/salvato=blocco-nuovo/);
    await expect(page.getByRole("status").filter({ hasText: "Modifica salvata" })).toBeVisible();
    await expect(page.locator("#sezione-blocchi")).toContainText(`Delibera: ${text} (dal 10/03/2021). Stato: Aperto.`);

    // The comune's page shows it, with the change on top of its history.
    await visit(page, `/comuni/${BARI}`, testInfo);
    await expect(page.locator(".lista-blocchi")).toContainText(`Delibera: ${text} (dal 10/03/2021, aperto)`);
    const history = page.getByRole("table", { name: "Modifiche registrate, dalla più recente" });
    await expect(history.locator("tbody tr").first()).toContainText(`descrizione: — → ${text}`);

    // The whole trail, for the Region.
    await page.locator(".account").getByRole("link", { name: "Registro modifiche" }).click();
    await expect(page).toHaveURL(/\/registro$/);
    await expectHydrationState(page, testInfo);
    await expect(page.getByRole("table").locator("tbody tr").first()).toContainText(text);
    // The whole trail as a file, with the blocker.
    const exports = page.getByTestId("esporta-registro");
    await expect(exports).toContainText("Scarica il registro completo");
    await expect(exports.getByRole("link", { name: "CSV", exact: true })).toHaveAttribute("href", "/export/registro.csv");
    const csv = await page.request.get("/export/registro.csv");
    expect(csv.status()).toBe(200);
    const body = await csv.text();
    expect(body.split("\n")[0]).toBe(
      "numero,data_ora_utc,autore,codice_istat,oggetto,azione,modifiche,motivo,hash_precedente,hash",
    );
    expect(body).toContain(`descrizione: — → ${text}`);
  });

  test("two managers verify the same objective: the second gets a conflict", async ({ page, context }, testInfo) => {
    await signIn(page, testInfo, DEMO_REGIONE);
    await expect(page).toHaveURL(/\/profilo$/);
    const other = await context.newPage();
    await visit(page, `/comuni/${BARI}/gestione`, testInfo);
    await visit(other, `/comuni/${BARI}/gestione`, testInfo);

    const first = page.locator("form#verifica-final_io");
    await first.getByLabel("Esito della verifica (obbligatorio)").selectOption("respinto");
    await first.getByLabel("Motivo").fill("Servizi non ancora pubblicati");
    await first.getByRole("button", { name: "Registra la verifica" }).click();
    await expect(page).toHaveURL(/salvato=verifica-final_io/);

    const second = other.locator("form#verifica-final_io");
    await second.getByLabel("Esito della verifica (obbligatorio)").selectOption("confermato");
    await second.getByLabel("Motivo").fill("Tutto in ordine");
    await second.getByRole("button", { name: "Registra la verifica" }).click();
    await expectHydrationState(other, testInfo);
    const alert = other.locator("form#verifica-final_io").getByRole("alert");
    await expect(alert).toContainText("un altro utente ha modificato questi dati");
    await expect(alert).toContainText("motivo «Tutto in ordine»");
    // The form now holds the first manager's values.
    await expect(other.locator("form#verifica-final_io").getByLabel("Motivo")).toHaveValue(
      "Servizi non ancora pubblicati",
    );
    await other.close();
  });

  test("a comune's user proposes a service and sees it waiting", async ({ page }, testInfo) => {
    await signIn(page, testInfo, DEMO_COMUNE);
    await expect(page).toHaveURL(/\/profilo$/);
    await visit(page, `/comuni/${BARI}/gestione`, testInfo);
    // Only the proposals: no Region form.
    await expect(page.locator("form#adesione")).toHaveCount(0);
    const form = page.locator("form#proposta-io");
    const id = `01E2E${testInfo.project.name.replace("-", "").toUpperCase()}`;
    await form.getByLabel("Service ID di App IO (obbligatorio)").fill(id);
    await form.getByLabel("Nome del servizio (obbligatorio)").fill("Mensa scolastica");
    await form.getByLabel("Pubblicato su App IO dal").fill("2021-05-03");
    await form.getByRole("button", { name: "Invia la proposta" }).click();
    await expectHydrationState(page, testInfo);
    await expect(page).toHaveURL(/salvato=proposta-io/);
    await expect(page.locator(".lista-proposte")).toContainText(`App IO ${id} «Mensa scolastica»`);
    await expect(page.locator(".lista-proposte")).toContainText("Stato: In attesa della Regione");
    // The Region finds it on its list, linked to the comune's workspace.
    await page.getByRole("button", { name: "Esci" }).click();
    await signIn(page, testInfo, DEMO_REGIONE);
    await expect(page).toHaveURL(/\/profilo$/);
    await page.locator(".account").getByRole("link", { name: "Proposte" }).click();
    await expect(page).toHaveURL(/\/proposte$/);
    const row = page.getByRole("row").filter({ hasText: id });
    await expect(row).toContainText("Mensa scolastica");
    // The same list as a file.
    await expect(page.getByTestId("esporta-proposte").getByRole("link", { name: "JSON" })).toHaveAttribute(
      "href",
      "/export/proposte.json",
    );
    const json = await (await page.request.get("/export/proposte.json")).json();
    expect(json.righe.some((r: { proposta: string }) => r.proposta.includes(id))).toBe(true);
    await row.getByRole("link", { name: "Bari" }).click();
    await expect(page).toHaveURL(new RegExp(`/comuni/${BARI}/gestione#sezione-proposte$`));
  });

  test("has no axe violations", async ({ page, browser, baseURL }, testInfo) => {
    await withScriptablePage(page, browser, baseURL, testInfo, async (target) => {
      await signIn(target, testInfo, DEMO_REGIONE);
      await expect(target).toHaveURL(/\/profilo$/);
      for (const path of [`/comuni/${BARI}/gestione`, `/comuni/${BARI}/registro`, "/registro", "/proposte", `/comuni/${BARI}`]) {
        await visit(target, path, testInfo);
        const results = await new AxeBuilder({ page: target })
          .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
          .analyze();
        const violations = results.violations.map(
          (v) => `${v.id} [${v.impact}] ${v.help}: ` + v.nodes.map((n) => JSON.stringify(n.target)).join(", "),
        );
        expect(violations, `axe violations on ${path}:\n${violations.join("\n")}`).toEqual([]);
      }
      // A refused form, with its messages, too.
      await visit(target, `/comuni/${BARI}/gestione`, testInfo);
      await target.locator("form#conteggio").getByLabel("Servizi attivi (obbligatorio)").fill("-1");
      await target.locator("form#conteggio").getByLabel("Giorno del conteggio (obbligatorio)").fill("2021-03-01");
      await target.locator("form#conteggio").getByRole("button", { name: "Registra il conteggio" }).click();
      await expect(target.locator("form#conteggio").getByRole("alert")).toBeVisible();
      const results = await new AxeBuilder({ page: target })
        .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
        .analyze();
      expect(results.violations.map((v) => v.id)).toEqual([]);
    });
  });
});
