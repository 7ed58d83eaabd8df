// Earnings per day as SVG bars around a zero line (earnings can be negative).
// Drawn here, no chart library; colours come from the stylesheet classes.
import { dollars } from "../format";

export interface Bar {
  label: string;
  cents: bigint;
}

const kWidth = 640;
const kHeight = 220;
const kPad = 28;

function scale(bars: Bar[]): { max: bigint; min: bigint } {
  let max = 0n;
  let min = 0n;
  for (const b of bars) {
    if (b.cents > max) max = b.cents;
    if (b.cents < min) min = b.cents;
  }
  if (max === min) max = min + 100n;
  return { max, min };
}

export function BarChart({ bars, title }: { bars: Bar[]; title: string }) {
  const { max, min } = scale(bars);
  const plotHeight = kHeight - 2 * kPad;
  const y = (c: bigint) => kPad + (Number(max - c) / Number(max - min)) * plotHeight;
  const slot = (kWidth - 2 * kPad) / Math.max(bars.length, 1);
  const zero = y(0n);
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${kWidth} ${kHeight}`} role="img" aria-label={title}>
        <line class="axis" x1={kPad} x2={kWidth - kPad} y1={zero} y2={zero} />
        <text class="tick" x={2} y={kPad}>{dollars(max)}</text>
        <text class="tick" x={2} y={kHeight - kPad + 12}>{dollars(min)}</text>
        {bars.map((b, i) => {
          const top = Math.min(y(b.cents), zero);
          const height = Math.max(Math.abs(y(b.cents) - zero), 1);
          const x = kPad + i * slot + slot * 0.15;
          return (
            <g key={b.label}>
              <rect class={b.cents < 0n ? "bar negative" : "bar"} x={x} y={top} width={slot * 0.7} height={height}>
                <title>{`${b.label}: ${dollars(b.cents)}`}</title>
              </rect>
              {(bars.length <= 16 || i % 7 === 0) && (
                <text class="tick" x={x} y={kHeight - 6}>{b.label.slice(5)}</text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption>{title}</figcaption>
    </figure>
  );
}
