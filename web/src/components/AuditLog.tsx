// An account's postings, grouped by business day: fee or reward, the task, the amount.
import { useState } from "preact/hooks";
import { billingClient } from "../api/clients";
import type { Transaction } from "../gen/ates/billing/v1/billing_service_pb";
import { usePaged } from "../hooks/usePaged";
import { dollars, kKindNames, taskLabel } from "../format";
import { DateRange, type Range } from "./DateRange";
import { ErrorText } from "./ErrorText";
import { Pager } from "./Pager";

function byDay(items: Transaction[]): [string, Transaction[]][] {
  const days = new Map<string, Transaction[]>();
  for (const t of items) days.set(t.businessDate, [...(days.get(t.businessDate) ?? []), t]);
  return [...days.entries()];
}

function DayTable({ day, items }: { day: string; items: Transaction[] }) {
  return (
    <table class="audit-day">
      <caption>{day}</caption>
      <thead>
        <tr><th scope="col">Kind</th><th scope="col">Task</th><th scope="col" class="num">Amount</th></tr>
      </thead>
      <tbody>
        {items.map((t) => (
          <tr key={t.id} data-kind={kKindNames[t.kind]} data-transaction-id={t.id}>
            <td>{kKindNames[t.kind]}</td>
            <td>{taskLabel(t.taskTitle, t.taskJiraId)}</td>
            <td class="num">{dollars(t.amountCents)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function AuditLog({ accountId }: { accountId: string }) {
  const [range, setRange] = useState<Range>({ from: "", to: "" });
  const paged = usePaged(async (pageToken) => {
    const r = await billingClient.listTransactions({ accountId, fromDate: range.from, toDate: range.to, pageToken, pageSize: 50 });
    return { items: r.transactions, next: r.nextPageToken };
  }, `${accountId}/${range.from}/${range.to}`);
  return (
    <section aria-labelledby="audit-title">
      <h2 id="audit-title">Audit log</h2>
      <DateRange legend="Business days (empty: today)" value={range} onChange={setRange} />
      <ErrorText error={paged.error} />
      {!paged.loading && paged.items.length === 0 && !paged.error && <p>No postings in these days.</p>}
      {byDay(paged.items).map(([day, items]) => <DayTable key={day} day={day} items={items} />)}
      <Pager paged={paged} label="Audit log" />
    </section>
  );
}
