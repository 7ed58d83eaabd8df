// Admin: close a business day by hand (the scheduler's CloseBillingCycle), and the days closed.
import { useState } from "preact/hooks";
import { schedulerClient } from "../api/clients";
import { usePaged } from "../hooks/usePaged";
import { ErrorText } from "../components/ErrorText";
import { Field } from "../components/Field";
import { Pager } from "../components/Pager";
import { ConfirmDialog } from "../components/ConfirmDialog";

export function CloseDayPage() {
  const [date, setDate] = useState("");
  const [asking, setAsking] = useState(false);
  const [result, setResult] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [generation, setGeneration] = useState(0);
  const closed = usePaged(async (pageToken) => {
    const r = await schedulerClient.listClosedCycles({ pageToken, pageSize: 20 });
    return { items: r.cycles, next: r.nextPageToken };
  }, String(generation));
  async function close() {
    setAsking(false);
    try {
      const r = await schedulerClient.closeBillingCycle({ businessDate: date });
      setError(null);
      const day = r.cycle?.businessDate ?? date;
      setResult(r.newlyClosed ? `Closed ${day}: payouts follow.` : `${day} was already closed.`);
      setGeneration((g) => g + 1);
    } catch (err) {
      setResult("");
      setError(err);
    }
  }
  return (
    <>
      <form class="card" onSubmit={(e) => { e.preventDefault(); setAsking(true); }}>
        <Field label="Business day (empty: today)">
          {(id) => <input id={id} type="date" value={date} onChange={(e) => setDate(e.currentTarget.value)} />}
        </Field>
        <button type="submit" class="primary">Close the day…</button>
        <p class="status" role="status">{result}</p>
        <ErrorText error={error} />
      </form>
      <ConfirmDialog open={asking} title="Close this business day?" confirmLabel="Close the day"
        onConfirm={close} onCancel={() => setAsking(false)}>
        <p>Every positive balance is paid out and set to zero. This cannot be undone.</p>
      </ConfirmDialog>
      <h2>Closed days</h2>
      <ErrorText error={closed.error} />
      <ul>
        {closed.items.map((c) => <li key={c.businessDate}>{c.businessDate}{c.manual ? " (by hand)" : ""}</li>)}
      </ul>
      <Pager paged={closed} label="Closed days" />
    </>
  );
}
