// Business dates are the server's "YYYY-MM-DD" strings (its business time
// zone); the page never derives "today" from the browser's clock, it takes it
// from a reply and only counts days on it, which needs no time zone.

export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split("-").map(Number);
  const t = new Date(Date.UTC(y, m - 1, d + days));
  return t.toISOString().slice(0, 10);
}

/** Every date from `from` to `to` inclusive (at most 400 days). */
export function dateRange(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to && out.length < 400; d = addDays(d, 1)) out.push(d);
  return out;
}
