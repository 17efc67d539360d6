import type { Browser, Page, TestInfo } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import {
  test,
  expect,
  expectHydrationState,
  expectPageShell,
  jsEnabled,
  withScriptablePage,
  visit,
  signIn,
  DEMO_COMUNE,
  DEMO_REGIONE,
} from "./helpers";

// Evidence: a comune's user uploads a PDF proving an objective reached, the Region reviews it
// negative with a reason, the comune reads it and uploads a new version, the Region reviews it
// positive and the dashboard counts the objective verified. With JavaScript on, the upload goes
// through the progress island (XMLHttpRequest); with it off, through the plain form.
//
// Each project works on an objective of its own (js-on the first reached objective of the demo
// comune user's supported comune, js-off the second), so the js-off run starts from a clean
// objective; the dashboard's headline figures are untouched (verification has its own table).
// 072004 is the demo comune user's adherent comune (its other one, Bari, did not adhere).

const CODICE = "072004";
const OBJECTIVE_INDEX: Record<string, number> = { "js-on": 0, "js-off": 1 };

/** A small PDF whose bytes differ by `tag` (the same bytes twice would be recognised). */
function pdf(tag: string): Buffer {
  return Buffer.from(
    `%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n% ${tag}\ntrailer << /Root 1 0 R >>\n%%EOF\n`,
  );
}

/** The `index`-th objective section whose service data shows it reached. */
async function reachedSection(page: Page, index: number) {
  const sections = page.locator("section.evidenza-obiettivo");
  const count = await sections.count();
  let seen = 0;
  for (let i = 0; i < count; i++) {
    const reached = await sections.nth(i).locator("dl.stato-evidenza dd").first().innerText();
    if (reached.startsWith("Raggiunto") && seen++ === index) return sections.nth(i);
  }
  throw new Error(`fewer than ${index + 1} reached objectives for this comune in the demo data`);
}

async function upload(page: Page, testInfo: TestInfo, section: ReturnType<Page["locator"]>, name: string, tag: string) {
  const form = section.locator("form.modulo-evidenza");
  await form.locator('input[type="file"]').setInputFiles({ name, mimeType: "application/pdf", buffer: pdf(tag) });
  // With JavaScript the progress island sends the form (XMLHttpRequest, with a live region for
  // screen readers); without it the browser posts the form itself.
  await expect(section.locator('.caricamento-evidenza [aria-live="polite"]')).toHaveCount(1);
  const sent = page.waitForRequest((r) => r.method() === "POST" && r.url().includes("/evidenze/"));
  await form.locator('button[type="submit"]').click();
  expect((await sent).resourceType()).toBe(jsEnabled(testInfo) ? "xhr" : "document");
  await expect(page).toHaveURL(/caricato=/);
  await expectHydrationState(page, testInfo);
  await expect(page.getByRole("status").filter({ hasText: "File caricato" })).toBeVisible();
}

/** A second signed-in page for the Region, with the project's JavaScript setting. */
async function regionPage(browser: Browser, baseURL: string | undefined, testInfo: TestInfo) {
  const context = await browser.newContext({ baseURL, javaScriptEnabled: jsEnabled(testInfo) });
  const page = await context.newPage();
  await signIn(page, testInfo, DEMO_REGIONE);
  await expect(page).toHaveURL(/\/profilo$/);
  return { context, page };
}

async function review(page: Page, testInfo: TestInfo, codice: string, file: string, outcome: string, reason: string) {
  await visit(page, "/evidenze", testInfo);
  const row = page.getByRole("row").filter({ hasText: file });
  await expect(row).toHaveCount(1);
  await row.getByRole("link", { name: /^Esamina la versione/ }).click();
  await expect(page).toHaveURL(new RegExp(`/comuni/${codice}/evidenze#evidenza-\\d+$`));
  await expectHydrationState(page, testInfo);
  // The review form sits in the row of the version it reviews.
  const form = page.locator("tr").filter({ hasText: file }).locator("form.modulo-esame");
  await expect(form).toHaveCount(1);
  // Bootstrap Italia draws the radio on its label (the input itself is moved off screen), so a
  // person clicks the label.
  await form.locator("label.form-check-label", { hasText: new RegExp(`^${outcome}$`) }).click();
  await expect(form.getByLabel(outcome, { exact: true })).toBeChecked();
  if (reason) await form.getByLabel("Motivazione", { exact: true }).fill(reason);
  await form.getByRole("button", { name: "Salva l'esame" }).click();
  await expect(page).toHaveURL(/esaminata=/);
  await expectHydrationState(page, testInfo);
}

async function verifiedCount(page: Page, testInfo: TestInfo, objective: string) {
  await visit(page, "/", testInfo);
  const cell = page.locator(`#obiettivi-verificati tr[data-obiettivo="${objective}"] td.verificati`);
  const text = await cell.innerText();
  return Number(text.split(" ")[0].replace(/\./g, ""));
}

test.describe("evidence /comuni/{codice}/evidenze", () => {
  test("the public cannot open evidence pages or files", async ({ page }, testInfo) => {
    const response = await visit(page, `/comuni/${CODICE}/evidenze`, testInfo);
    expect(response.status()).toBe(401);
    await expect(page.locator("form.modulo-evidenza")).toHaveCount(0);
    expect((await page.request.get("/evidenze/1/file")).status()).toBe(401);
    expect((await visit(page, "/evidenze", testInfo)).status()).toBe(401);
  });

  test("upload, negative review with a reason, new version, positive review, verified on the dashboard", async ({
    page,
    browser,
    baseURL,
  }, testInfo) => {
    test.setTimeout(120_000);
    const codice = CODICE;
    const project = testInfo.project.name;

    // The comune's user: the page states the limit and what is accepted, before uploading.
    await signIn(page, testInfo, DEMO_COMUNE);
    await visit(page, `/comuni/${codice}/evidenze`, testInfo);
    await expectPageShell(page);
    const section = await reachedSection(page, OBJECTIVE_INDEX[project]);
    const objective = (await section.getAttribute("id"))!.replace("obiettivo-", "");
    await expect(section.getByText("Dimensione massima: 20 MB")).toBeVisible();
    await expect(section.getByText(/Sono accettati: PDF/)).toBeVisible();

    // A file whose content is not a PDF is refused in words, next to the field.
    const form = section.locator("form.modulo-evidenza");
    await form.locator('input[type="file"]').setInputFiles({
      name: "verbale.pdf",
      mimeType: "application/pdf",
      buffer: Buffer.from("<html><body>non un PDF</body></html>"),
    });
    await form.locator('button[type="submit"]').click();
    const refused = page.locator(`form#evidenza-${objective}`);
    await expect(refused.getByRole("alert")).toContainText("Il file non è stato salvato.");
    await expect(refused.getByText(/non è di un tipo accettato/).first()).toBeVisible();
    await expect(refused.locator('input[type="file"]')).toHaveAttribute("aria-invalid", "true");

    // Version 1.
    await visit(page, `/comuni/${codice}/evidenze`, testInfo);
    const v1 = `verbale-${project}-1.pdf`;
    await upload(page, testInfo, page.locator(`#obiettivo-${objective}`), v1, `${project} uno`);
    await expect(page.locator(`#obiettivo-${objective}`)).toContainText("Evidenza in attesa di esame");

    // The Region: negative, with the reason.
    const region = await regionPage(browser, baseURL, testInfo);
    const reason = `Manca la firma del responsabile (${project})`;
    await review(region.page, testInfo, codice, v1, "Negativo", reason);
    await expect(region.page.getByRole("status").filter({ hasText: "Esame salvato" })).toBeVisible();

    // The comune reads the outcome and the reason, and uploads a new version.
    await visit(page, `/comuni/${codice}/evidenze`, testInfo);
    const mine = page.locator(`#obiettivo-${objective}`);
    await expect(mine).toContainText("Evidenza respinta");
    await expect(mine).toContainText(reason);
    const v2 = `verbale-${project}-2-firmato.pdf`;
    await upload(page, testInfo, mine, v2, `${project} due`);
    const before = await verifiedCount(page, testInfo, objective);

    // Positive: verified, on the comune's page and on the dashboard.
    await review(region.page, testInfo, codice, v2, "Positivo", "");
    await visit(page, `/comuni/${codice}/evidenze`, testInfo);
    await expect(page.locator(`#obiettivo-${objective} dl.stato-evidenza`)).toContainText("Verificato");
    // Every version and review stays.
    await expect(page.locator(`#obiettivo-${objective}`)).toContainText(v1);
    await expect(page.locator(`#obiettivo-${objective}`)).toContainText(reason);
    expect(await verifiedCount(page, testInfo, objective)).toBe(before + 1);

    // The download: an attachment, with the bytes uploaded.
    await visit(page, `/comuni/${codice}/evidenze`, testInfo);
    const link = page.locator(`#obiettivo-${objective}`).getByRole("link", { name: v2 });
    const download = await page.request.get((await link.getAttribute("href"))!);
    expect(download.status()).toBe(200);
    expect(download.headers()["content-disposition"]).toContain("attachment");
    expect(download.headers()["x-content-type-options"]).toBe("nosniff");
    expect((await download.body()).toString()).toContain(`${project} due`);
    await region.context.close();
  });

  test("the upload page (the comune's), the review page and the queue (the Region's) pass axe", async ({
    page,
    browser,
    baseURL,
  }, testInfo) => {
    const codice = CODICE;
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
      await signIn(target, testInfo, DEMO_COMUNE);
      await expect(target).toHaveURL(/\/profilo$/);
      await visit(target, `/comuni/${codice}/evidenze`, testInfo);
      await audit(target, "the upload page");
      // …and with a refused file's messages.
      const form = target.locator("form.modulo-evidenza").first();
      await form.locator('input[type="file"]').setInputFiles({
        name: "schermata.png",
        mimeType: "image/png",
        buffer: pdf("non una PNG"),
      });
      await form.locator('button[type="submit"]').click();
      await expect(target.getByRole("alert").first()).toContainText("Il file non è stato salvato.");
      await audit(target, "a refused upload");
    });
    await withScriptablePage(page, browser, baseURL, testInfo, async (target) => {
      await signIn(target, testInfo, DEMO_REGIONE);
      await expect(target).toHaveURL(/\/profilo$/);
      for (const path of [`/comuni/${codice}/evidenze`, "/evidenze"]) {
        await visit(target, path, testInfo);
        await audit(target, path);
      }
    });
  });
});
