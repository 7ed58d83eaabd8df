// The web app in a real headless Chromium against a real stack (ADR 0025):
// each role logs in and sees its pages and only them, tasks are created,
// shuffled and completed through the pages, balances and audit logs move by
// exactly the fees and rewards the server posted, bad input shows the
// server's field errors, and logout ends the session.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";
import { startDevstack } from "./support/devstack.mjs";
import { call, ok, all, cents } from "./support/connect.mjs";
import { fieldViolations } from "./support/bad_request.mjs";
import { Ui, fieldError, parseDollars, eventually } from "./support/ui.mjs";

const kSource = process.env.ATES_SOURCE_DIR;
const kBuild = process.env.ATES_BUILD_DIR;
const { chromium } = createRequire(path.join(kSource, "web", "package.json"))("playwright-core");

const AUTH = "ates.auth.v1.AuthService/";
const TASKS = "ates.tasks.v1.TaskService/";
const BILLING = "ates.billing.v1.BillingService/";
const ANALYTICS = "ates.analytics.v1.AnalyticsService/";
const kAdminPassword = "admin-browser-pass";
const kPeople = {
  manager: { login: "mona", name: "Mona Manager", role: "manager" },
  worker: { login: "wanda", name: "Wanda Worker", role: "worker" },
  other: { login: "walt", name: "Walt Worker", role: "worker" },
  accountant: { login: "abe", name: "Abe Accountant", role: "accountant" },
};
const passwordOf = (p) => `${p.login}-pass-2026`;
const kUuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

let stack;
let browser;
let ui;
let admin; // the admin's page, kept open: the server's view for expectations
const ids = {};
let worker; // wanda's page
let workerStart; // her balance before any task existed
let assignments = 0; // creations + reassignments: each one posts a fee

async function shuffleAndCheckCount(manager) {
  const open = (await all(admin, `${TASKS}ListTasks`, { status: "TASK_STATUS_OPEN" }, "tasks")).length;
  await manager.getByRole("button", { name: "Shuffle open tasks…" }).click();
  const dialog = manager.getByRole("dialog", { name: "Shuffle every open task?" });
  await dialog.waitFor();
  await ui.shot(manager, "manager-shuffle-confirmation");
  await dialog.getByRole("button", { name: "Shuffle", exact: true }).click();
  await manager.getByTestId("shuffle-result").filter({ hasText: /Reassigned/ }).waitFor();
  assert.equal(await manager.getByTestId("shuffle-result").innerText(), `Reassigned ${open} open task${open === 1 ? "" : "s"}.`);
  assignments += open;
}

/** Tasks go to a random worker or accountant: create more until both workers hold one. */
async function giveEachWorkerATask(manager) {
  for (let n = 3; n <= 40; n++) {
    const held = await Promise.all([ids.wanda, ids.walt].map(async (id) => (await openTasksOf(id)).length));
    if (held.every((count) => count > 0)) return;
    await ok(manager, `${TASKS}CreateTask`, { title: `Task number ${n}`, jiraId: `UP-${n}` });
    assignments += 1;
  }
  assert.fail("40 tasks and still a worker without one");
}

async function openTasksOf(accountId) {
  return all(admin, `${TASKS}ListTasks`, { status: "TASK_STATUS_OPEN", assigneeId: accountId }, "tasks");
}

async function transactionsOf(accountId) {
  return all(admin, `${BILLING}ListTransactions`, { accountId }, "transactions");
}

const sum = (txs) => txs.reduce((s, t) => s + cents(t.amountCents), 0n);

async function shownBalance(page) {
  return parseDollars(await page.getByTestId("balance").innerText());
}

describe("web app in Chromium", { concurrency: false }, () => {
  before(async () => {
    stack = await startDevstack({ buildDir: kBuild, sourceDir: kSource, adminPassword: kAdminPassword });
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: ["--no-sandbox"] });
    ui = new Ui(browser, stack.url, path.join(kBuild, "browser-screenshots"));
  });

  after(async () => {
    await ui?.close();
    await browser?.close();
    await stack?.stop();
  });

  it("admin sees the admin pages only and creates an account per role on the Accounts page", async () => {
    admin = await ui.logIn("admin", kAdminPassword);
    assert.deepEqual(await ui.navTitles(admin),
      ["All tasks", "Earnings", "Balances and payouts", "Export", "Accounts", "Analytics", "Close a day", "Password"]);
    await ui.open(admin, "Accounts");
    const before = (await all(admin, `${AUTH}ListAccounts`, {}, "accounts")).length;
    await admin.getByRole("button", { name: "Create account" }).click();
    const bad = await call(admin, `${AUTH}CreateAccount`, {});
    assert.equal(bad.json.code, "invalid_argument");
    const violations = fieldViolations(bad.json);
    await assert.doesNotReject(fieldError(admin, "Login").waitFor());
    assert.equal(await fieldError(admin, "Login").innerText(), violations.login);
    assert.equal(await fieldError(admin, "E-mail").innerText(), violations.email);
    assert.equal((await all(admin, `${AUTH}ListAccounts`, {}, "accounts")).length, before, "bad input created nothing");
    for (const p of Object.values(kPeople)) {
      await admin.getByLabel("Login", { exact: true }).fill(p.login);
      await admin.getByLabel("Full name").fill(p.name);
      await admin.getByLabel("E-mail").fill(`${p.login}@example.com`);
      await admin.getByLabel("Role", { exact: true }).selectOption({ label: p.role });
      await admin.getByLabel("Password", { exact: true }).fill(passwordOf(p));
      await admin.getByRole("button", { name: "Create account" }).click();
      await admin.getByRole("status").filter({ hasText: `Created ${p.login}.` }).waitFor();
      await admin.locator(`tr[data-login="${p.login}"]`).waitFor();
    }
    for (const a of await all(admin, `${AUTH}ListAccounts`, {}, "accounts")) ids[a.login] = a.id;
    await ui.shot(admin, "admin-accounts");
  });

  it("manager sees the task pages only; bad input shows the server's field errors; creates and shuffles tasks", async () => {
    worker = await ui.logIn(kPeople.worker.login, passwordOf(kPeople.worker));
    await ui.open(worker, "My balance");
    workerStart = await shownBalance(worker);
    assert.equal(workerStart, 0n, "a new account starts at $0.00");
    const manager = await ui.logIn(kPeople.manager.login, passwordOf(kPeople.manager));
    assert.deepEqual(await ui.navTitles(manager), ["All tasks", "Password"]);
    await ui.open(manager, "All tasks");
    const badInput = { title: "Fix [login]", jiraId: "up-1" };
    const bad = await call(manager, `${TASKS}CreateTask`, badInput);
    assert.equal(bad.json.code, "invalid_argument");
    const violations = fieldViolations(bad.json);
    await manager.getByLabel("Title").fill(badInput.title);
    await manager.getByLabel("Jira id (e.g. UP-42)").fill(badInput.jiraId);
    await manager.getByRole("button", { name: "Create task" }).click();
    await fieldError(manager, "Title").waitFor();
    assert.equal(await fieldError(manager, "Title").innerText(), violations.title);
    assert.equal(await fieldError(manager, "Jira id (e.g. UP-42)").innerText(), violations.jira_id);
    await ui.shot(manager, "manager-create-task-field-errors");
    assert.equal((await all(admin, `${TASKS}ListTasks`, {}, "tasks")).length, 0, "bad input created nothing");
    for (const [title, jira] of [["Fix the login page", "UP-1"], ["Feed the parrots", "UP-2"]]) {
      await manager.getByLabel("Title").fill(title);
      await manager.getByLabel("Jira id (e.g. UP-42)").fill(jira);
      await manager.getByLabel("Description").fill(`${title}, please.`);
      await manager.getByRole("button", { name: "Create task" }).click();
      await manager.getByRole("status").filter({ hasText: `Created [${jira}] ${title}.` }).waitFor();
      assignments += 1;
    }
    await manager.locator('tr[data-jira-id="UP-2"]').waitFor();
    await shuffleAndCheckCount(manager);
    await giveEachWorkerATask(manager);
    await ui.shootEveryPage(manager, "manager");
    await ui.open(manager, "All tasks");
    const board = await manager.locator("table.tasks").innerText();
    assert.doesNotMatch(board, kUuid, "people appear by name, not by id");
    const names = Object.values(kPeople).filter((p) => p.role !== "manager").map((p) => `${p.name} (${p.login})`);
    assert.ok(names.some((n) => board.includes(n)), `an assignee by name and login in:\n${board}`);
  });

  it("worker sees only her own tasks and money; her balance and audit log move by exactly the fee and reward", async () => {
    assert.deepEqual(await ui.navTitles(worker), ["My tasks", "My balance", "Password"]);
    const fees = await eventually(async () => {
      const assignable = await Promise.all([ids.wanda, ids.walt, ids.abe].map(transactionsOf));
      const fees = assignable.flat().filter((t) => t.kind === "TRANSACTION_KIND_ASSIGN_FEE");
      assert.equal(fees.length, assignments, "billing has posted every fee");
      return transactionsOf(ids.wanda);
    });
    assert.ok(fees.length > 0, "she holds a task, so she paid a fee");
    assert.ok(fees.every((t) => t.kind === "TRANSACTION_KIND_ASSIGN_FEE" && cents(t.amountCents) < 0n));
    await ui.open(worker, "My balance");
    assert.equal(await shownBalance(worker), workerStart + sum(fees), "balance = start + the fees posted");
    for (const fee of fees) {
      const row = worker.locator(`tr[data-transaction-id="${fee.id}"]`);
      assert.match(await row.innerText(), /^fee\t/);
      assert.equal(parseDollars(await row.locator("td.num").innerText()), cents(fee.amountCents));
    }
    await ui.open(worker, "My tasks");
    const mine = await openTasksOf(ids.wanda);
    await worker.locator("table.tasks").waitFor();
    const shownIds = await worker.locator("tr[data-task-id]").evaluateAll((rows) => rows.map((r) => r.dataset.taskId));
    assert.deepEqual(shownIds.sort(), mine.map((t) => t.id).sort(), "exactly her open tasks");
    for (const t of await openTasksOf(ids.walt)) assert.ok(!shownIds.includes(t.id), "never another's task");
    await ui.shot(worker, "worker-my-tasks");
    const before = await eventually(async () => {
      await ui.open(worker, "My balance");
      return shownBalance(worker);
    });
    const task = mine[0];
    await ui.open(worker, "My tasks");
    await worker.locator(`tr[data-task-id="${task.id}"]`).getByRole("button", { name: /^Complete/ }).click();
    await worker.getByRole("status").filter({ hasText: "Completed" }).waitFor();
    const reward = await eventually(async () => {
      const r = (await transactionsOf(ids.wanda)).find((t) => t.kind === "TRANSACTION_KIND_COMPLETION_REWARD" && t.taskId === task.id);
      assert.ok(r, "the reward is posted");
      return r;
    });
    assert.ok(cents(reward.amountCents) > 0n);
    await ui.open(worker, "My balance");
    assert.equal(await shownBalance(worker), before + cents(reward.amountCents), "balance moved by exactly the reward");
    const row = worker.locator(`tr[data-transaction-id="${reward.id}"]`);
    assert.match(await row.innerText(), new RegExp(`^reward\\t.*${task.title}`));
    assert.equal(parseDollars(await row.locator("td.num").innerText()), cents(reward.amountCents));
    await ui.shot(worker, "worker-my-balance");
    const denied = await call(worker, `${BILLING}GetBalance`, { accountId: ids.walt });
    assert.equal(denied.json?.code, "permission_denied", `another's balance through the gateway: ${denied.text}`);
    assert.equal(denied.status, 403);
    await ui.shootEveryPage(worker, "worker");
  });

  it("accountant sees her own and the company's money, exports CSV, and no task board", async () => {
    const acc = await ui.logIn(kPeople.accountant.login, passwordOf(kPeople.accountant));
    assert.deepEqual(await ui.navTitles(acc), ["My tasks", "My balance", "Earnings", "Balances and payouts", "Export", "Password"]);
    await ui.shootEveryPage(acc, "accountant");
    const earnings = await ok(acc, `${BILLING}GetManagementEarnings`, {});
    await ui.open(acc, "Earnings");
    assert.equal(parseDollars(await acc.getByTestId("earnings-today").innerText()), cents(earnings.today?.earningsCents));
    await acc.locator("figure.chart svg rect.bar").first().waitFor();
    await ui.shot(acc, "accountant-earnings");
    await ui.open(acc, "Balances and payouts");
    await acc.getByLabel("Account").selectOption({ label: `${kPeople.worker.name} (${kPeople.worker.login})` });
    const balance = await ok(admin, `${BILLING}GetBalance`, { accountId: ids.wanda });
    await acc.getByTestId("balance").waitFor();
    assert.equal(await shownBalance(acc), cents(balance.balanceCents), "any account's balance, as the server has it");
    await ui.shot(acc, "accountant-balances-and-payouts");
    await ui.open(acc, "Export");
    const company = await all(acc, `${BILLING}ListTransactions`, { accountId: "*" }, "transactions");
    const [download] = await Promise.all([
      acc.waitForEvent("download"),
      acc.getByRole("button", { name: "Download transactions (CSV)" }).click(),
    ]);
    const csv = readFileSync(await download.path(), "utf8").trim().split("\r\n");
    assert.equal(csv[0], "business_date,occurred_at,account_login,account_name,kind,amount,task_jira_id,task_title,transaction_id");
    assert.equal(csv.length - 1, company.length, "one line per transaction of the company today");
    const ids_in_csv = new Set(csv.slice(1).map((line) => line.split(",").at(-1)));
    assert.deepEqual([...ids_in_csv].sort(), company.map((t) => t.id).sort());
    assert.ok(csv.some((line) => line.includes(",wanda,Wanda Worker,reward,")), "the worker's reward, by name");
  });

  it("admin's analytics show today's figures; a password reset on the Accounts page lets the user in", async () => {
    await ui.shootEveryPage(admin, "admin");
    const summary = await ok(admin, `${ANALYTICS}GetDailySummary`, {});
    await ui.open(admin, "Analytics");
    assert.equal(await admin.getByTestId("negative-balances").innerText(), String(summary.negativeBalanceAccounts ?? 0));
    await ui.shot(admin, "admin-analytics");
    await ui.open(admin, "Accounts");
    const row = admin.locator(`tr[data-login="${kPeople.other.login}"]`);
    await row.getByLabel(/^New password for/).fill("walt-reset-2026");
    await row.getByRole("button", { name: "Reset password" }).click();
    await row.getByRole("status").filter({ hasText: "Password reset: done." }).waitFor();
    const walt = await ui.logIn(kPeople.other.login, "walt-reset-2026");
    assert.match(await walt.getByTestId("who").innerText(), /Walt Worker \(walt, worker\)/);
  });

  it("admin changes a role and deactivates an account on the Accounts page", async () => {
    await ui.open(admin, "Accounts");
    let row = admin.locator(`tr[data-login="${kPeople.other.login}"]`);
    await row.getByLabel(/^Role of/).selectOption({ label: "accountant" });
    await row.getByRole("button", { name: "Save role" }).click();
    await row.getByRole("status").filter({ hasText: "Role: done." }).waitFor();
    const changed = await ok(admin, `${AUTH}GetAccount`, { accountId: ids.walt });
    assert.equal(changed.account.role, "ROLE_ACCOUNTANT");
    await row.getByRole("button", { name: "Deactivate" }).click();
    await row.getByRole("status").filter({ hasText: "Deactivate: done." }).waitFor();
    await row.getByRole("cell", { name: "deactivated", exact: true }).waitFor();
    assert.equal(await row.getByRole("button", { name: "Deactivate" }).count(), 0);
    const page = await ui.newPage();
    await ui.submitLogin(page, kPeople.other.login, "walt-reset-2026");
    await page.getByRole("alert").waitFor();
    assert.equal(await page.getByTestId("who").count(), 0, "a deactivated account cannot log in");
  });

  it("everyone can change the password; logout ends the session", async () => {
    await ui.open(worker, "Password");
    await worker.getByLabel("Current password").fill(passwordOf(kPeople.worker));
    await worker.getByLabel("New password").fill("wanda-new-pass-1");
    await worker.getByRole("button", { name: "Change password" }).click();
    await worker.getByRole("status").filter({ hasText: "Password changed." }).waitFor();
    await worker.getByRole("button", { name: "Log out" }).click();
    await worker.getByRole("button", { name: "Log in" }).waitFor();
    const after = await call(worker, `${AUTH}GetAccount`, {});
    assert.equal(after.json?.code, "unauthenticated", `a call after logout: ${after.text}`);
    await worker.reload();
    await worker.getByRole("button", { name: "Log in" }).waitFor();
    await ui.shot(worker, "login");
    await ui.submitLogin(worker, kPeople.worker.login, passwordOf(kPeople.worker));
    await worker.getByRole("alert").waitFor();
    await worker.getByLabel("Password", { exact: true }).fill("");
    await worker.getByLabel("Login", { exact: true }).focus();
    await worker.keyboard.press("Tab"); // from Login to Password, as a person types
    await worker.keyboard.type("wanda-new-pass-1");
    await worker.keyboard.press("Enter");
    await worker.getByTestId("who").waitFor();
  });

  it("admin closes the business day by hand after a confirmation", async () => {
    const today = (await ok(admin, `${ANALYTICS}GetDailySummary`, {})).businessDate;
    await ui.open(admin, "Close a day");
    await admin.getByLabel("Business day (empty: today)").fill(today);
    await admin.getByRole("button", { name: "Close the day…" }).click();
    const dialog = admin.getByRole("dialog", { name: "Close this business day?" });
    await dialog.waitFor();
    await admin.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    const closedBefore = await all(admin, "ates.scheduler.v1.SchedulerService/ListClosedCycles", {}, "cycles");
    assert.ok(!closedBefore.some((c) => c.businessDate === today), "Escape closed nothing");
    await admin.getByRole("button", { name: "Close the day…" }).click();
    await dialog.getByRole("button", { name: "Close the day" }).click();
    await admin.getByRole("status").filter({ hasText: `Closed ${today}` }).waitFor();
    const closed = await all(admin, "ates.scheduler.v1.SchedulerService/ListClosedCycles", {}, "cycles");
    assert.ok(closed.some((c) => c.businessDate === today && c.manual), "the day is closed, by hand");
    await admin.getByRole("listitem").filter({ hasText: `${today} (by hand)` }).waitFor();
    await ui.shot(admin, "admin-close-a-day-done");
  });

  it("no page had a script error or a Content-Security-Policy violation", () => {
    assert.deepEqual(ui.pageProblems, []);
  });
});
