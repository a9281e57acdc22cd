import type { Handlers, PageProps } from "./_lib/context.ts";
import { count, usd } from "../components/format.ts";
import { SpendChart } from "../components/SpendChart.tsx";
import {
  periodStarts,
  type SpendDimension,
  spendRollup,
  type SpendRow,
  sumBy,
  sumByDay,
  topSessions,
  type TrafficCounts,
  trafficCounts,
} from "../storage/ui/overview.ts";

const DIMENSIONS: SpendDimension[] = ["team", "developer", "provider", "model"];
const DAY = 86_400_000;

interface Data {
  today: Record<SpendDimension, SpendRow[]>;
  month: Record<SpendDimension, SpendRow[]>;
  days: { day: number; costUsd: number }[];
  counts: TrafficCounts;
  top: Awaited<ReturnType<typeof topSessions>>;
}

export const handler: Handlers = {
  async GET(_req, ctx) {
    const db = ctx.services.db;
    const now = Date.now();
    const { today: startOfDay, month: startOfMonth } = periodStarts(now);
    const rows = await spendRollup(db, now);
    const today = {} as Record<SpendDimension, SpendRow[]>;
    const month = {} as Record<SpendDimension, SpendRow[]>;
    for (const dim of DIMENSIONS) {
      today[dim] = sumBy(rows, dim, startOfDay);
      month[dim] = sumBy(rows, dim, startOfMonth);
    }
    ctx.state.title = "Overview";
    return ctx.render(
      {
        today,
        month,
        days: sumByDay(rows, startOfDay - 29 * DAY, startOfDay + DAY),
        counts: await trafficCounts(db, startOfDay),
        top: await topSessions(db, startOfMonth),
      } satisfies Data,
    );
  },
};

function SpendTable(props: { title: string; rows: SpendRow[] }) {
  const total = props.rows.reduce((sum, r) => sum + r.costUsd, 0);
  return (
    <table>
      <caption>{props.title}</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col" class="num">Turns</th>
          <th scope="col" class="num">Spend</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.length === 0
          ? (
            <tr>
              <td colSpan={3} class="empty">No turns</td>
            </tr>
          )
          : null}
        {props.rows.slice(0, 8).map((r) => (
          <tr>
            <td>{r.key ?? <em>unknown</em>}</td>
            <td class="num">{count(r.turns)}</td>
            <td class="num">{usd(r.costUsd)}</td>
          </tr>
        ))}
      </tbody>
      <tfoot>
        <tr>
          <th scope="row">Total</th>
          <td />
          <td class="num">{usd(total)}</td>
        </tr>
      </tfoot>
    </table>
  );
}

export default function Overview({ data }: PageProps<Data>) {
  const c = data.counts;
  return (
    <>
      <h1>Overview</h1>
      <ul class="tiles" aria-label="Today">
        <li>
          <strong>{count(c.requests)}</strong> requests today
        </li>
        <li>
          <strong>{count(c.blocks)}</strong> blocks
        </li>
        <li>
          <strong>{count(c.redactions)}</strong> redactions
        </li>
        <li>
          <strong>{count(c.throttles)}</strong> throttles
        </li>
        <li>
          <strong>{usd(data.today.provider.reduce((s, r) => s + r.costUsd, 0))}</strong> spent today
        </li>
        <li>
          <strong>{usd(data.month.provider.reduce((s, r) => s + r.costUsd, 0))}</strong> this month
        </li>
      </ul>
      <SpendChart days={data.days} />
      <h2>Today</h2>
      <div class="grid">
        {DIMENSIONS.map((dim) => <SpendTable key={dim} title={`By ${dim}`} rows={data.today[dim]} />)}
      </div>
      <h2>This month</h2>
      <div class="grid">
        {DIMENSIONS.map((dim) => <SpendTable key={dim} title={`By ${dim}`} rows={data.month[dim]} />)}
      </div>
      <h2>Top sessions this month</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Session</th>
            <th scope="col">Developer</th>
            <th scope="col">Team</th>
            <th scope="col">Model</th>
            <th scope="col" class="num">Turns</th>
            <th scope="col" class="num">Cost</th>
          </tr>
        </thead>
        <tbody>
          {data.top.map((s) => (
            <tr>
              <td>
                <a href={`/sessions/${encodeURIComponent(s.id)}`}>{s.id.slice(0, 12)}</a>
              </td>
              <td>{s.developer ?? "—"}</td>
              <td>{s.team ?? "—"}</td>
              <td>{s.model ?? "—"}</td>
              <td class="num">{s.turns}</td>
              <td class="num">{usd(s.costUsd)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
