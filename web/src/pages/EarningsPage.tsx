// Management's earnings (fees charged minus rewards paid): today, and per day for two weeks.
import { billingClient } from "../api/clients";
import { useLoad } from "../hooks/useLoad";
import { addDays } from "../dates";
import { dollars } from "../format";
import { ErrorText } from "../components/ErrorText";
import { EarningsChart } from "../components/EarningsChart";

async function loadEarnings() {
  const today = (await billingClient.getManagementEarnings({})).today;
  const to = today?.businessDate ?? "";
  const from = addDays(to, -13);
  const range = await billingClient.getManagementEarnings({ fromDate: from, toDate: to });
  return { today, from, to, days: range.days };
}

export function EarningsPage() {
  const earnings = useLoad(loadEarnings, "earnings");
  const e = earnings.data;
  return (
    <>
      <ErrorText error={earnings.error} />
      {e?.today && (
        <section aria-labelledby="today-title">
          <h2 id="today-title">Today ({e.today.businessDate})</h2>
          <dl class="figures">
            <dt>Fees charged</dt><dd>{dollars(e.today.feesChargedCents)}</dd>
            <dt>Rewards paid</dt><dd>{dollars(e.today.rewardsPaidCents)}</dd>
            <dt>Earnings</dt><dd data-testid="earnings-today">{dollars(e.today.earningsCents)}</dd>
          </dl>
        </section>
      )}
      {e && <EarningsChart from={e.from} to={e.to} days={e.days} title={`Earnings per day, ${e.from} to ${e.to}`} />}
    </>
  );
}
