// Admin analytics: today's summary (with the accounts below zero), the most
// expensive task of a day, week or month, and earnings per day.
import { useState } from "preact/hooks";
import { analyticsClient } from "../api/clients";
import { Period } from "../gen/ates/analytics/v1/analytics_service_pb";
import { useLoad } from "../hooks/useLoad";
import { addDays } from "../dates";
import { dollars, taskLabel } from "../format";
import { ErrorText } from "../components/ErrorText";
import { EarningsChart } from "../components/EarningsChart";
import { Field } from "../components/Field";

async function loadSummary() {
  const summary = await analyticsClient.getDailySummary({});
  const to = summary.businessDate;
  const from = addDays(to, -13);
  const earnings = await analyticsClient.getEarnings({ fromDate: from, toDate: to });
  return { summary, from, to, days: earnings.days };
}

function MostExpensive() {
  const [period, setPeriod] = useState(Period.DAY);
  const top = useLoad(() => analyticsClient.getMostExpensiveTask({ period }), String(period));
  const t = top.data;
  return (
    <section aria-labelledby="top-title">
      <h2 id="top-title">Most expensive task</h2>
      <Field label="Period">
        {(id) => (
          <select id={id} value={String(period)} onChange={(e) => setPeriod(Number(e.currentTarget.value) as Period)}>
            <option value={String(Period.DAY)}>today</option>
            <option value={String(Period.WEEK)}>this week</option>
            <option value={String(Period.MONTH)}>this month</option>
          </select>
        )}
      </Field>
      <ErrorText error={top.error} />
      {t && (t.taskId
        ? <p data-testid="most-expensive">{taskLabel(t.title, t.jiraId)}: {dollars(t.rewardCents)} ({t.fromDate} to {t.toDate})</p>
        : <p>No completed task from {t.fromDate} to {t.toDate}.</p>)}
    </section>
  );
}

export function AnalyticsPage() {
  const data = useLoad(loadSummary, "summary");
  const d = data.data;
  return (
    <>
      <ErrorText error={data.error} />
      {d && (
        <section aria-labelledby="summary-title">
          <h2 id="summary-title">Today ({d.summary.businessDate})</h2>
          <dl class="figures">
            <dt>Management earnings</dt><dd>{dollars(d.summary.earningsCents)}</dd>
            <dt>Fees charged</dt><dd>{dollars(d.summary.feesChargedCents)}</dd>
            <dt>Rewards paid</dt><dd>{dollars(d.summary.rewardsPaidCents)}</dd>
            <dt>Accounts below zero</dt><dd data-testid="negative-balances">{String(d.summary.negativeBalanceAccounts)}</dd>
          </dl>
        </section>
      )}
      <MostExpensive />
      {d && <EarningsChart from={d.from} to={d.to} days={d.days} title={`Earnings per day, ${d.from} to ${d.to}`} />}
    </>
  );
}
