// Earnings per day for the `days` business days up to the server's today.
import { dateRange } from "../dates";
import { BarChart } from "./BarChart";

export interface DayFigure {
  businessDate: string;
  earningsCents: bigint;
}

/** Days without postings are drawn as zero, so the axis is every day of the range. */
export function EarningsChart({ from, to, days, title }: { from: string; to: string; days: DayFigure[]; title: string }) {
  const byDate = new Map(days.map((d) => [d.businessDate, d.earningsCents]));
  const bars = dateRange(from, to).map((d) => ({ label: d, cents: byDate.get(d) ?? 0n }));
  return <BarChart bars={bars} title={title} />;
}
