import type { Page, TestInfo } from "@playwright/test";
import {
  test,
  expect,
  expectHydrationState,
  visit,
  expectPageShell,
  expectNoAxeViolations,
  signIn,
  DEMO_COMUNE,
  DEMO_REGIONE,
} from "./helpers";

// The shared helpers (page-error guard, hydration, page shell, axe, sign-in) are in
// helpers.ts; the footer's pages and the feedback form are tested in site.spec.ts.

/** Italian integer formatting: thousands separated by a dot ("3.512"). */
const ITALIAN_INT = /^\d{1,3}(\.\d{3})*$/;
const parseItalianInt = (text: string) => Number(text.trim().replace(/\./g, ""));

test.describe("dashboard /", () => {
  test("shows the headline figures", async ({ page }, testInfo) => {
    const response = await visit(page, "/", testInfo);
    expect(response.status()).toBe(200);
    await expectPageShell(page);
    await expect(
      page.getByRole("heading", { level: 1, name: "Fondo Innovazione in Puglia", exact: true }),
    ).toBeVisible();

    const figura = (key: string) => page.locator(`.figura[data-figura="${key}"]`);
    const exact: Record<string, string> = {
      supportati: "140",
      "primo-step-in-tempo": "106",
      "primo-step": "130",
      "tutti-obiettivi": "120",
      "io-regione": "90",
    };
    for (const [key, value] of Object.entries(exact)) {
      await expect(figura(key).locator(".figura-valore"), key).toHaveText(value);
    }
    // Adherents in words (on time and late) over all the comuni.
    await expect(figura("supportati").locator(".figura-denominatore")).toHaveText(
      "133 aderenti nei termini e 7 in ritardo; su 257 comuni (54,5%)",
    );
    // One whole per figure: step 1 by its deadline over the adherents, at any date over all.
    await expect(figura("primo-step-in-tempo").locator(".figura-denominatore")).toHaveText(
      "su 140 comuni aderenti, nei termini o in ritardo (75,7%)",
    );
    await expect(figura("primo-step").locator(".figura-denominatore")).toHaveText("su 257 comuni (50,6%)");
    // Grant euros: assigned, earned by tranche, lost or renounced.
    for (const key of ["contributo-assegnato", "contributo-maturato", "contributo-perso"]) {
      await expect(figura(key).locator(".figura-valore"), key).toHaveText(/^€ \d{1,3}(\.\d{3})*$/);
    }
    await expect(figura("contributo-maturato").locator(".figura-denominatore")).toContainText("20%");
    // Every figure links to the list of the comuni behind it.
    await expect(page.locator('.figura[data-figura="primo-step"] a')).toHaveAttribute(
      "href",
      "/comuni?traguardo=primo_step",
    );

    // The pagoPA (MyPay) counts are large: they must be formatted the Italian way.
    const mypay = async (key: string) => {
      const valore = figura(key).locator(".figura-valore");
      await expect(valore, key).toHaveText(ITALIAN_INT);
      return parseItalianInt((await valore.textContent()) ?? "");
    };
    expect(await mypay("mypay-attivi")).toBeGreaterThanOrEqual(3500);
    const nelProgetto = await mypay("mypay-nel-progetto");
    expect(nelProgetto).toBeGreaterThanOrEqual(2200);
    expect(nelProgetto).toBeLessThanOrEqual(2249);

    // Every other figure opens with its whole ("su …"); the adherents' card says its parts first.
    const others = Object.keys(exact).filter((key) => key !== "supportati");
    for (const key of [...others, "mypay-attivi", "mypay-nel-progetto"]) {
      await expect(figura(key).locator(".figura-denominatore"), key).toHaveText(
        /^su \d{1,3}(\.\d{3})* \S/,
      );
    }
  });

  test("renders the chart on the server, with a caption", async ({ page }, testInfo) => {
    await visit(page, "/", testInfo);
    // The SVG is server-rendered, so it must be there with JavaScript off too.
    const chart = page.getByRole("figure").filter({ has: page.locator("svg") }).first();
    await expect(chart.locator("svg").first()).toBeVisible();
    await expect(chart.locator("figcaption")).not.toBeEmpty();
  });

  test("offers the chart data as a table, per province", async ({ page }, testInfo) => {
    await visit(page, "/", testInfo);

    // <details>/<summary> is native: it opens on click with or without JavaScript.
    const figure = page.locator('figure[data-grafico="adesione"]');
    const summary = figure.getByText("Dati del grafico in tabella");
    const details = figure.locator("details");
    await expect(details).not.toHaveAttribute("open");
    await summary.click();
    await expect(details).toHaveAttribute("open");

    const table = page.getByRole("table", { name: /Adesione per provincia/ });
    await expect(table).toBeVisible();
    await expect(table.getByRole("columnheader")).toHaveText([
      "Provincia",
      "Aderenti",
      "In ritardo",
      "Non aderenti",
      "Totale comuni",
    ]);

    const aderenti: Record<string, number> = {
      Bari: 11,
      "Barletta-Andria-Trani": 7,
      Brindisi: 9,
      Foggia: 27,
      Lecce: 65,
      Taranto: 14,
    };
    let totaleComuni = 0;
    for (const [provincia, expected] of Object.entries(aderenti)) {
      const row = table
        .getByRole("row")
        .filter({ has: page.getByRole("rowheader", { name: provincia, exact: true }) });
      await expect(row, provincia).toHaveCount(1);
      // Cells after the row header: Aderenti | In ritardo | Non aderenti | Totale comuni.
      const cells = row.getByRole("cell");
      await expect(cells, provincia).toHaveCount(4);
      await expect(cells.nth(0), `${provincia}: Aderenti`).toHaveText(String(expected));
      totaleComuni += parseItalianInt((await cells.nth(3).textContent()) ?? "");
    }
    // Puglia has 257 comuni, split among the six provinces.
    expect(totaleComuni).toBe(257);
  });
});

test.describe("comuni /comuni", () => {
  const comuniTable = (page: Page) => page.getByRole("table", { name: /Comuni/ });
  // Body rows are those with data cells; the header row has column headers only.
  const bodyRows = (page: Page) =>
    comuniTable(page).getByRole("row").filter({ has: page.getByRole("cell") });

  test("lists the 257 comuni, 50 per page", async ({ page }, testInfo) => {
    const response = await visit(page, "/comuni", testInfo);
    expect(response.status()).toBe(200);
    await expectPageShell(page);
    await expect(page.getByRole("heading", { level: 1, name: "Comuni", exact: true })).toBeVisible();
    await expect(page.getByRole("status")).toHaveText("257 comuni trovati (pagina 1 di 6).");
    await expect(bodyRows(page)).toHaveCount(50);
  });

  test("filters by province and membership, then opens a comune", async ({ page }, testInfo) => {
    await visit(page, "/comuni", testInfo);

    const provincia = page.getByRole("combobox", { name: "Provincia" });
    const adesione = page.getByRole("combobox", { name: "Adesione" });
    const optionValues = (select: typeof provincia) =>
      select
        .locator("option")
        .evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value).sort());
    expect(await optionValues(provincia)).toEqual(["", "BA", "BR", "BT", "FG", "LE", "TA"]);
    expect(await optionValues(adesione)).toEqual(
      ["", "aderente", "aderente_in_ritardo", "non_aderente", "rinuncia"].sort(),
    );

    // A plain GET form: without JavaScript the browser submits it, with JavaScript the
    // router may intercept it; either way the filter ends up in the URL.
    await provincia.selectOption("TA");
    await adesione.selectOption("aderente");
    await page.getByRole("button", { name: "Applica i filtri" }).click();
    await expect(page).toHaveURL(/[?&]provincia=TA(&|$)/);
    await expect(page).toHaveURL(/[?&]adesione=aderente(&|$)/);
    await expect(bodyRows(page)).toHaveCount(14);
    await expectHydrationState(page, testInfo);

    await comuniTable(page).getByRole("link", { name: "Martina Franca", exact: true }).click();
    await expect(page).toHaveURL(/\/comuni\/073013$/);
    await expect(
      page.getByRole("heading", { level: 1, name: "Martina Franca", exact: true }),
    ).toBeVisible();
    await expectPageShell(page);
    const main = page.getByRole("main");
    await expect(main).toContainText("c_e986"); // IPA code
    await expect(main).toContainText("E986"); // cadastral code (case-sensitive match)
    await expectHydrationState(page, testInfo);
  });

  test("answers 404 for an unknown comune", async ({ page }, testInfo) => {
    const response = await visit(page, "/comuni/999999", testInfo);
    expect(response.status()).toBe(404);
    await expectPageShell(page);
    await expect(page.getByRole("heading", { level: 1, name: /non trovato/i })).toBeVisible();
  });
});

test.describe("CSV export", () => {
  const HEADER =
    "codice_istat,denominazione,sigla_provincia,codice_ipa,popolazione,adesione," +
    "data_adesione,contributo_eur,primo_step,primo_step_entro_scadenza,data_primo_step," +
    "obiettivi_finali,data_obiettivi_finali,servizi_pagopa_attivi," +
    "servizi_pagopa_applicabili,servizi_pagopa_attivati_nel_progetto,servizi_io_attivi," +
    "io_tramite_regione,servizi_spid_cie,obiettivi_finali_entro_scadenza,rinuncia,data_rinuncia";

  /** Minimal RFC 4180 parser: quoted fields may hold commas, quotes and newlines. */
  function parseCsv(text: string): string[][] {
    const rows: string[][] = [];
    let row: string[] = [];
    let field = "";
    let quoted = false;
    const endField = () => {
      row.push(field);
      field = "";
    };
    const endRow = () => {
      endField();
      rows.push(row);
      row = [];
    };
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (quoted) {
        if (c === '"' && text[i + 1] === '"') {
          field += '"';
          i++;
        } else if (c === '"') {
          quoted = false;
        } else {
          field += c;
        }
      } else if (c === '"') {
        quoted = true;
      } else if (c === ",") {
        endField();
      } else if (c === "\r" || c === "\n") {
        if (c === "\r" && text[i + 1] === "\n") i++;
        endRow();
      } else {
        field += c;
      }
    }
    if (field !== "" || row.length > 0) endRow();
    return rows;
  }

  test("exports the filtered comuni", async ({ request }) => {
    const response = await request.get("/export/comuni.csv?provincia=LE&adesione=aderente");
    expect(response.status()).toBe(200);
    expect(response.headers()["content-type"]).toContain("text/csv");

    const body = await response.text();
    expect(body.split(/\r?\n/)[0]).toBe(HEADER);

    const [header, ...rows] = parseCsv(body);
    expect(rows).toHaveLength(65);
    const provinciaCol = header.indexOf("sigla_provincia");
    const adesioneCol = header.indexOf("adesione");
    for (const row of rows) {
      expect(row, row.join(",")).toHaveLength(header.length);
      expect(row[provinciaCol]).toBe("LE");
      expect(row[adesioneCol]).toBe("aderente");
    }
  });
});

test.describe("accessibility (axe, WCAG 2.1 AA)", () => {
  for (const path of ["/", "/comuni", "/comuni/073013", "/accedi"]) {
    test(`no violations on ${path}`, async ({ page, browser, baseURL }, testInfo) => {
      await expectNoAxeViolations(page, browser, baseURL, path, testInfo);
    });
  }
});

// The person the test OpenID provider signs in is end2end/oidc/provider.mjs's, registered by
// end2end/run.sh with the fiscal code the provider releases; the demo accounts are in helpers.ts.

test.describe("sign-in", () => {
  test("a comune user signs in, sees only its own comuni's private data, signs out", async ({ page }, testInfo) => {
    await signIn(page, testInfo, DEMO_COMUNE);
    await expect(page).toHaveURL(/\/profilo$/);
    await expectHydrationState(page, testInfo);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Il mio profilo");
    await expect(page.getByText("Comune (referente)")).toBeVisible();
    await page.getByRole("link", { name: /^Bari \(072006\)$/ }).click();
    await expect(page).toHaveURL(/\/comuni\/072006$/);
    await expect(page.getByRole("heading", { name: "Area riservata" })).toBeVisible();
    await expect(page.getByText("demo.comune@traguardi.invalid").last()).toBeVisible();
    // Lecce is not theirs: its public page, without the private section.
    await visit(page, "/comuni/075035", testInfo);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Lecce");
    await expect(page.getByRole("heading", { name: "Area riservata" })).toHaveCount(0);
    // The users page is the Region's: refused in words.
    const refused = await visit(page, "/utenti", testInfo);
    expect(refused.status()).toBe(403);
    await expect(page.getByRole("alert")).toContainText("Solo i referenti della Regione");
    await page.getByRole("button", { name: "Esci" }).click();
    await expect(page).toHaveURL(/\/accedi\?uscita=1$/);
    await expect(page.getByText("Sei uscito da Traguardi.")).toBeVisible();
    const after = await visit(page, "/profilo", testInfo);
    expect(after.status()).toBe(401);
  });

  test("a wrong password is refused in words and the e-mail typed is kept", async ({ page }, testInfo) => {
    await signIn(page, testInfo, { email: DEMO_COMUNE.email, password: "non-e-questa-la-password" });
    await expectHydrationState(page, testInfo);
    await expect(page.getByRole("alert")).toContainText("Indirizzo e-mail o password non corretti.");
    await expect(page.getByLabel("Indirizzo e-mail")).toHaveValue(DEMO_COMUNE.email);
    await expect(page.getByLabel("Password (obbligatorio)")).toHaveValue("");
  });

  test("the Region manages users: errors next to the fields, then the account", async ({ page }, testInfo) => {
    await signIn(page, testInfo, DEMO_REGIONE);
    await visit(page, "/utenti", testInfo);
    await expect(page.getByRole("table")).toContainText("demo.assessore@traguardi.invalid");
    const email = `nuovo.${testInfo.project.name}@comune.lecce.example`;
    await page.getByLabel("Indirizzo e-mail").fill(email);
    await page.getByLabel("Nome e cognome").fill("Nuova Referente");
    await page.getByLabel("Ruolo").selectOption("comune");
    await page.getByLabel("Codice fiscale").fill("ABC");
    await page.getByLabel("Comuni (codici ISTAT)").fill("75035");
    await page.getByRole("button", { name: "Crea utente" }).click();
    await expectHydrationState(page, testInfo);
    await expect(page.getByRole("alert")).toContainText("L'utente non è stato creato");
    await expect(page.getByText("Errore: Il codice fiscale deve avere 16 lettere e cifre.")).toBeVisible();
    await expect(page.getByLabel("Nome e cognome")).toHaveValue("Nuova Referente");
    await page.getByLabel("Codice fiscale").fill("");
    await page.getByRole("button", { name: "Crea utente" }).click();
    await expect(page).toHaveURL(/\/utenti\?esito=creato$/);
    await expect(page.getByText("Utente creato.")).toBeVisible();
    await expect(page.getByRole("row").filter({ hasText: email })).toContainText("075035");
  });
});

test.describe("sign-in through the Region's identity service (OIDC)", () => {
  // The provider's own pages import web fonts from the internet, which this machine cannot
  // reach: refuse those requests at once instead of waiting for them.
  test.beforeEach(async ({ page }) => {
    await page.route(/fonts\.(googleapis|gstatic)\.com/, (route) => route.abort());
  });

  async function throughProvider(page: Page, testInfo: TestInfo, login: string) {
    await visit(page, "/accedi", testInfo);
    await page.getByRole("button", { name: "Entra con SPID, CIE o CNS" }).click();
    await expect(page).toHaveURL(/127\.0\.0\.1:3101\/interaction\//);
    await page.locator('input[name="login"]').fill(login);
    await page.locator('input[name="password"]').fill("qualsiasi");
    await page.getByRole("button", { name: "Sign-in" }).click();
    await page.getByRole("button", { name: "Continue" }).click();
  }

  test("a pre-registered comune user signs in and sees its comune", async ({ page }, testInfo) => {
    await throughProvider(page, testInfo, "comune.bari");
    await expect(page).toHaveURL(/127\.0\.0\.1:3100\/profilo$/);
    await expectHydrationState(page, testInfo);
    await expect(page.getByText("Rosa Referente").first()).toBeVisible();
    await page.getByRole("link", { name: /^Bari \(072006\)$/ }).click();
    await expect(page.getByRole("heading", { name: "Area riservata" })).toBeVisible();
    // Signing out also ends the provider's session (RP-initiated logout).
    await page.getByRole("button", { name: "Esci" }).click();
    await expect(page).toHaveURL(/127\.0\.0\.1:3101\/session\/end/);
    await page.getByRole("button", { name: "Yes, sign me out" }).click();
    await expect(page).toHaveURL(/127\.0\.0\.1:3100\//);
    const after = await visit(page, "/profilo", testInfo);
    expect(after.status()).toBe(401);
  });

  test("an identity that is not registered is refused", async ({ page }, testInfo) => {
    await throughProvider(page, testInfo, "sconosciuto");
    await expect(page).toHaveURL(/\/accedi\?errore=oidc-non-registrato$/);
    await expectHydrationState(page, testInfo);
    await expect(page.getByRole("status")).toContainText("non risulta registrata in Traguardi");
    const profile = await visit(page, "/profilo", testInfo);
    expect(profile.status()).toBe(401);
  });
});
