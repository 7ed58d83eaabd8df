// Every transaction or payout of a date range as CSV, read page by page
// (company-wide: account "*") and built into a download in the browser.
import { useState } from "preact/hooks";
import { billingClient } from "../api/clients";
import { decimalDollars, kKindNames } from "../format";
import { toCsv, download } from "../csv";
import { DateRange, type Range } from "../components/DateRange";
import { ErrorText } from "../components/ErrorText";

async function transactionsCsv(range: Range): Promise<[string, number]> {
  const rows: string[][] = [];
  let pageToken = "";
  do {
    const r = await billingClient.listTransactions({ accountId: "*", fromDate: range.from, toDate: range.to, pageToken, pageSize: 500 });
    for (const t of r.transactions) {
      rows.push([t.businessDate, t.occurredAt ? new Date(Number(t.occurredAt.seconds) * 1000).toISOString() : "",
        t.accountLogin, t.accountName, kKindNames[t.kind], decimalDollars(t.amountCents), t.taskJiraId, t.taskTitle, t.id]);
    }
    pageToken = r.nextPageToken;
  } while (pageToken);
  const header = ["business_date", "occurred_at", "account_login", "account_name", "kind", "amount", "task_jira_id", "task_title", "transaction_id"];
  return [toCsv(header, rows), rows.length];
}

async function payoutsCsv(range: Range): Promise<[string, number]> {
  const rows: string[][] = [];
  let pageToken = "";
  do {
    const r = await billingClient.listPayouts({ accountId: "*", fromDate: range.from, toDate: range.to, pageToken, pageSize: 500 });
    for (const p of r.payouts) {
      rows.push([p.businessDate, p.accountLogin, p.accountName, decimalDollars(p.amountCents), p.emailSent ? "yes" : "no", p.id]);
    }
    pageToken = r.nextPageToken;
  } while (pageToken);
  return [toCsv(["business_date", "account_login", "account_name", "amount", "email_sent", "payout_id"], rows), rows.length];
}

export function ExportPage() {
  const [range, setRange] = useState<Range>({ from: "", to: "" });
  const [status, setStatus] = useState("");
  const [error, setError] = useState<unknown>(null);
  const name = (what: string) => `ates-${what}-${range.from || "today"}-${range.to || "today"}.csv`;
  async function run(what: "transactions" | "payouts") {
    setStatus(`Reading ${what}…`);
    setError(null);
    try {
      const [csv, count] = what === "transactions" ? await transactionsCsv(range) : await payoutsCsv(range);
      download(name(what), csv);
      setStatus(`Exported ${count} ${what}.`);
    } catch (err) {
      setStatus("");
      setError(err);
    }
  }
  return (
    <>
      <DateRange legend="Business days (empty: today)" value={range} onChange={setRange} />
      <div class="actions">
        <button type="button" onClick={() => run("transactions")}>Download transactions (CSV)</button>
        <button type="button" onClick={() => run("payouts")}>Download payouts (CSV)</button>
      </div>
      <p class="status" role="status">{status}</p>
      <ErrorText error={error} />
    </>
  );
}
