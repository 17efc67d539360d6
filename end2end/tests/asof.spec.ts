import { test, expect, visit, expectNoAxeViolations } from "./helpers";

// The programme as of any day (issue 18): the date field of the dashboard's filters (a plain GET
// form, with JavaScript on and off) shows the programme as it stood at the end of that day, says
// so in words, keeps the day in its links, and goes back to today in one click.

const stepOneOnTime = '.figura[data-figura="primo-step-in-tempo"]';

test.describe("the programme as of a past day", () => {
  test("the dashboard's date field shows step 1 as of its deadline", async ({ page }, testInfo) => {
    await visit(page, "/", testInfo);
    await expect(page.getByTestId("situazione-al")).toHaveCount(0);

    await page.getByLabel("Situazione al giorno").fill("2021-02-28");
    await page.getByRole("button", { name: "Applica i filtri" }).click();
    await expect(page).toHaveURL(/[?&]al=2021-02-28(&|$)/);

    const notice = page.getByTestId("situazione-al");
    await expect(notice).toContainText("Situazione al 28/02/2021");
    await expect(notice).toContainText("i dati sono quelli registrati fino a quel giorno");
    // The press release's step-1 figure: 106 comuni by 28/02/2021.
    await expect(page.locator(`${stepOneOnTime} .figura-valore`)).toHaveText("106");
    await expect(page.getByLabel("Situazione al giorno")).toHaveValue("2021-02-28");
    // The card's list and the exports keep the day.
    await expect(page.locator(`${stepOneOnTime} a`)).toHaveAttribute("href", /[?&]al=2021-02-28(&|$)/);
    await expect(page.getByRole("link", { name: "Scarica questi comuni in CSV" })).toHaveAttribute(
      "href",
      /[?&]al=2021-02-28(&|$)/,
    );

    // The list behind the card is of the same day, and says so.
    await page.locator(`${stepOneOnTime} a`).click();
    await expect(page).toHaveURL(/\/comuni\?.*al=2021-02-28/);
    await expect(page.getByTestId("situazione-al")).toContainText("Situazione al 28/02/2021");
    await expect(page.getByRole("status").filter({ hasText: "106 comuni trovati" })).toHaveCount(1);

    // Back to today: no notice, no day in the address.
    await page.getByRole("link", { name: "Torna alla situazione di oggi" }).click();
    await expect(page.getByTestId("situazione-al")).toHaveCount(0);
    await expect(page).not.toHaveURL(/al=2021/);
  });

  test("a day after today is refused in Italian", async ({ page }) => {
    const response = await page.goto("/?al=2099-01-01");
    expect(response?.status()).toBe(400);
    await expect(page.getByText(/Giorno non consultabile: 01\/01\/2099/)).toBeVisible();
  });

  test("a past day's dashboard passes axe", async ({ page, browser, baseURL }, testInfo) => {
    await expectNoAxeViolations(page, browser, baseURL, "/?al=2021-02-28", testInfo);
  });
});
