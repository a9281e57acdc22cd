import type { Handlers, PageProps } from "../_lib/context.ts";
import type { SimulationReport } from "../../policies/versions/mod.ts";
import { time, usd } from "../../components/format.ts";

interface Data {
  title: string;
  days: number;
  report?: SimulationReport;
  error?: string;
}

/**
 * `/policies/simulate?index=N&days=D`: the running chain with entry N enabled and enforced, replayed over
 * the last D days of captured traffic — what turning it on would have done. Read-only, so viewers may run it.
 */
export const handler: Handlers = {
  async GET(_req, ctx) {
    const entries = structuredClone(ctx.services.config().policies);
    const index = Number(ctx.url.searchParams.get("index"));
    const days = Math.min(Math.max(Number(ctx.url.searchParams.get("days")) || 7, 1), 62);
    const entry = entries[index];
    ctx.state.title = "Simulate";
    if (!entry) {
      return ctx.render({
        title: "?",
        days,
        error: `No policy entry at index ${ctx.url.searchParams.get("index")}`,
      }, {
        status: 404,
      });
    }
    entry.enabled = true;
    entry.mode = "enforce";
    const title = entry.name ?? entry.use;
    try {
      return ctx.render(
        { title, days, report: await ctx.services.simulatePolicies(entries, days) } satisfies Data,
      );
    } catch (error) {
      return ctx.render({ title, days, error: (error as Error).message } satisfies Data, { status: 422 });
    }
  },
};

function Counts(props: { title: string; counts: Record<string, number> }) {
  const rows = Object.entries(props.counts);
  if (rows.length === 0) return null;
  return (
    <>
      {rows.map(([policy, n]) => (
        <tr key={`${props.title}-${policy}`}>
          <td>{props.title}</td>
          <td>{policy}</td>
          <td class="num">{n}</td>
        </tr>
      ))}
    </>
  );
}

export default function Simulate({ data }: PageProps<Data>) {
  const r = data.report;
  return (
    <>
      <p class="crumbs">
        <a href="/policies">Policies</a> / simulate
      </p>
      <h1>Simulation: {data.title} enabled and enforced</h1>
      {data.error ? <p class="notice error" role="alert">{data.error}</p> : null}
      {r
        ? (
          <>
            <p>
              Replayed {r.exchanges} captured exchanges of the last {data.days} days
              {r.from !== null && r.to !== null ? ` (${time(r.from)} to ${time(r.to)})` : ""}. Nothing was
              enforced or spent.
            </p>
            <table>
              <thead>
                <tr>
                  <th scope="col">Effect</th>
                  <th scope="col">Policy</th>
                  <th scope="col" class="num">Exchanges</th>
                </tr>
              </thead>
              <tbody>
                <Counts title="blocked" counts={r.blocked} />
                <Counts title="throttled" counts={r.throttled} />
                <Counts title="rerouted" counts={r.rerouted} />
                <Counts title="modified / redacted" counts={r.modified} />
                <Counts title="errors" counts={r.errors} />
              </tbody>
            </table>
            <dl class="facts">
              <dt>Recorded spend</dt>
              <dd>{usd(r.spend.recordedUsd)}</dd>
              <dt>Avoided by blocks</dt>
              <dd>{usd(r.spend.avoidedUsd)}</dd>
              <dt>Reroute difference</dt>
              <dd>{usd(r.spend.rerouteDeltaUsd)}</dd>
              <dt>Projected spend</dt>
              <dd>{usd(r.spend.projectedUsd)}</dd>
            </dl>
            <h2>Examples</h2>
            <ul>
              {r.examples.map((e) => (
                <li key={`${e.exchangeId}-${e.policy}`}>
                  {time(e.at)} <strong>{e.policy}</strong> {e.kind}: {e.reason}
                </li>
              ))}
            </ul>
          </>
        )
        : null}
    </>
  );
}
