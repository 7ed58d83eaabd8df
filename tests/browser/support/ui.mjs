// What a person does in the app: log in, go to a page by its link, read
// amounts, take screenshots. Script errors and CSP violations on any page are
// collected so that a test can require there were none.
import path from "node:path";
import { mkdirSync } from "node:fs";

export class Ui {
  constructor(browser, baseUrl, screenshotDir) {
    this.browser = browser;
    this.baseUrl = baseUrl;
    this.screenshotDir = screenshotDir;
    this.pageProblems = [];
    this.contexts = [];
    mkdirSync(screenshotDir, { recursive: true });
  }

  async newPage() {
    const context = await this.browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    context.setDefaultTimeout(10_000); // a page that will not show something fails fast
    this.contexts.push(context);
    const page = await context.newPage();
    page.on("pageerror", (err) => this.pageProblems.push(`script error: ${err.message}`));
    page.on("console", (msg) => {
      if (msg.type() === "error" && /Content.Security.Policy/i.test(msg.text())) this.pageProblems.push(msg.text());
    });
    await page.goto(this.baseUrl);
    return page;
  }

  /** A fresh browser context (no cookies) logged in through the login form. */
  async logIn(login, password) {
    const page = await this.newPage();
    await this.submitLogin(page, login, password);
    await page.getByTestId("who").waitFor();
    return page;
  }

  async submitLogin(page, login, password) {
    await page.getByLabel("Login", { exact: true }).fill(login);
    await page.getByLabel("Password", { exact: true }).fill(password);
    await page.getByRole("button", { name: "Log in" }).click();
  }

  async navTitles(page) {
    return page.getByRole("navigation", { name: "Pages" }).getByRole("link").allInnerTexts();
  }

  /** Follows the nav link and waits for the page heading. */
  async open(page, title) {
    const link = page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: title, exact: true });
    const href = await link.getAttribute("href");
    if (new URL(page.url()).hash === href) {
      await page.reload(); // already there: read it afresh
    } else {
      await link.click();
    }
    await page.getByRole("heading", { level: 1, name: title }).waitFor();
    await settled(page);
  }

  async shot(page, name) {
    await settled(page);
    await page.screenshot({ path: path.join(this.screenshotDir, `${name}.png`), fullPage: true });
  }

  /** Visits every page of the role's nav, taking a screenshot of each. */
  async shootEveryPage(page, role) {
    for (const title of await this.navTitles(page)) {
      await this.open(page, title);
      await this.shot(page, `${role}-${title.toLowerCase().replace(/[^a-z]+/g, "-")}`);
    }
  }

  async close() {
    for (const c of this.contexts) await c.close().catch(() => {});
  }
}

/** Waits for the page's loads to finish (the app marks them on <html data-loading>). */
export async function settled(page) {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 50)))));
  await page.locator("html:not([data-loading])").waitFor({ state: "attached" });
}

/** The text shown beside a form field, found through the field's label. */
export function fieldError(page, label) {
  return page.locator(".field").filter({ has: page.getByText(label, { exact: true }) }).locator("[data-field-error]");
}

/** "-$1,234.56" -> -123456n */
export function parseDollars(text) {
  const m = text.trim().match(/^(-?)\$([\d,]+)\.(\d\d)$/);
  if (!m) throw new Error(`not an amount: ${JSON.stringify(text)}`);
  const abs = BigInt(m[2].replace(/,/g, "")) * 100n + BigInt(m[3]);
  return m[1] ? -abs : abs;
}

/** Retries `check` until it stops throwing (events reach billing asynchronously). */
export async function eventually(check, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 400));
    }
  }
}
