/**
 * Deliveries per hour as a stacked bar chart, drawn on the server as inline SVG: no chart library,
 * no script, nothing for the CSP to allow. A data table beside it carries the same numbers for
 * screen readers and for anyone who wants exact values.
 */
import type { HourBucket } from "../db/dashboard-queries";

const COLORS = { delivered: "#2da44e", retrying: "#d4a72c", dead: "#cf222e", paused: "#8250df" } as const;
const ORDER = ["delivered", "retrying", "dead", "paused"] as const;

/** Two drawings of the same data: text in an SVG scales with it, so a phone gets its own layout. */
const LAYOUTS = {
  wide: { w: 720, h: 240, labelEvery: 3 },
  narrow: { w: 360, h: 220, labelEvery: 6 },
} as const;
const PAD = { left: 36, right: 8, top: 12, bottom: 28 };

/** 1, 2, 5, 10, 20, 50… so the axis reads in round numbers. */
function niceMax(value: number): number {
  if (value <= 4) return 4;
  const step = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 5, 10]) if (m * step >= value) return m * step;
  return 10 * step;
}

const hourLabel = (seconds: number) => `${new Date(seconds * 1000).toISOString().slice(11, 13)}:00`;

function Bars(props: { buckets: HourBucket[]; layout: keyof typeof LAYOUTS; max: number; total: number }) {
  const { buckets, max } = props;
  const { w: W, h: H, labelEvery } = LAYOUTS[props.layout];
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / buckets.length;
  const barW = Math.max(2, slot * 0.7);
  const y = (value: number) => PAD.top + plotH - (value / max) * plotH;
  const ticks = [0, max / 4, max / 2, (3 * max) / 4, max];
  const descId = `chart-desc-${props.layout}`;
  return (
    // biome-ignore lint/a11y/noSvgWithoutTitle: the title is the figure's heading, linked by aria-labelledby.
    <svg
      class={props.layout}
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-labelledby={`chart-title ${descId}`}
      focusable="false"
    >
      <desc id={descId}>
        Stacked bars per hour: delivered, retrying, dead and paused deliveries. The table below has the same numbers.
      </desc>
      {ticks.map((tick) => (
        <g>
          <line x1={PAD.left} x2={W - PAD.right} y1={y(tick)} y2={y(tick)} stroke="#d0d7de" stroke-width="1" />
          <text x={PAD.left - 6} y={y(tick) + 4} text-anchor="end" font-size="11" fill="#57606a">
            {String(Math.round(tick))}
          </text>
        </g>
      ))}
      {buckets.map((bucket, i) => {
        const x = PAD.left + i * slot + (slot - barW) / 2;
        let base = 0;
        return (
          <g>
            <title>{`${hourLabel(bucket.hour)}: ${bucket.delivered} delivered, ${bucket.retrying} retrying, ${bucket.dead} dead, ${bucket.paused} paused`}</title>
            {ORDER.map((status) => {
              const value = bucket[status];
              if (value === 0) return null;
              const top = y(base + value);
              const height = y(base) - top;
              base += value;
              return (
                <rect
                  x={x.toFixed(1)}
                  y={top.toFixed(1)}
                  width={barW.toFixed(1)}
                  height={Math.max(height, 1).toFixed(1)}
                  fill={COLORS[status]}
                />
              );
            })}
            {i % labelEvery === 0 ? (
              <text x={(x + barW / 2).toFixed(1)} y={H - 8} text-anchor="middle" font-size="11" fill="#57606a">
                {hourLabel(bucket.hour)}
              </text>
            ) : null}
          </g>
        );
      })}
      <line x1={PAD.left} x2={W - PAD.right} y1={y(0)} y2={y(0)} stroke="#8c959f" stroke-width="1" />
      {props.total === 0 ? (
        <text x={PAD.left + plotW / 2} y={PAD.top + plotH / 2} text-anchor="middle" font-size="13" fill="#57606a">
          No deliveries in the last 24 hours
        </text>
      ) : null}
    </svg>
  );
}

export function HourlyChart(props: { buckets: HourBucket[] }) {
  const { buckets } = props;
  const totals = buckets.map((b) => b.delivered + b.retrying + b.dead + b.paused);
  const paused = buckets.reduce((a, b) => a + b.paused, 0);
  const max = niceMax(Math.max(0, ...totals));
  const sum = totals.reduce((a, b) => a + b, 0);
  const toAntavo = buckets.reduce((a, b) => a + b.toAntavo, 0);
  return (
    <figure class="chart card" aria-labelledby="chart-title">
      <figcaption id="chart-title">
        <strong>Deliveries per hour, last 24 hours (UTC)</strong> — {sum} in total: {sum - toAntavo} to Bloomreach,{" "}
        {toAntavo} to Antavo; {paused} paused
      </figcaption>
      <Bars buckets={buckets} layout="wide" max={max} total={sum} />
      <Bars buckets={buckets} layout="narrow" max={max} total={sum} />
      <ul class="legend">
        {ORDER.map((status) => (
          <li>
            <span class={`swatch ${status}`} />
            {status}
          </li>
        ))}
      </ul>
      <details>
        <summary>Show the numbers</summary>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Hour (UTC)</th>
                <th scope="col">Delivered</th>
                <th scope="col">Retrying</th>
                <th scope="col">Dead</th>
                <th scope="col">Paused</th>
                <th scope="col">Of them to Antavo</th>
              </tr>
            </thead>
            <tbody>
              {buckets.map((b) => (
                <tr>
                  <th scope="row">{new Date(b.hour * 1000).toISOString().slice(0, 13).replace("T", " ")}:00</th>
                  <td>{b.delivered}</td>
                  <td>{b.retrying}</td>
                  <td>{b.dead}</td>
                  <td>{b.paused}</td>
                  <td>{b.toAntavo}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
