import { time, usd } from "./format.ts";

/** Spend per day as an SVG bar chart (no script, no inline style: the CSP forbids both). */
export function SpendChart(props: { days: { day: number; costUsd: number }[] }) {
  const width = 720;
  const height = 160;
  const max = Math.max(...props.days.map((d) => d.costUsd), 0.01);
  const bar = width / Math.max(props.days.length, 1);
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width} ${height + 20}`} role="img" aria-label="Spend per day, last 30 days">
        {props.days.map((d, i) => {
          const h = Math.round((d.costUsd / max) * height);
          return (
            <g key={d.day}>
              <rect class="bar" x={i * bar + 2} y={height - h} width={bar - 4} height={h}>
                <title>{`${time(d.day).slice(0, 10)}: ${usd(d.costUsd)}`}</title>
              </rect>
              {i % 5 === 0
                ? <text x={i * bar + 2} y={height + 15} class="axis">{time(d.day).slice(5, 10)}</text>
                : null}
            </g>
          );
        })}
      </svg>
      <figcaption>Spend per day (UTC), peak {usd(max)}</figcaption>
    </figure>
  );
}
