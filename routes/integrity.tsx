import type { Handlers, PageProps } from "./_lib/context.ts";
import { time } from "../components/format.ts";
import { type ChainCheck, checkChains } from "../storage/ui/activity.ts";

interface Data {
  checks: ChainCheck[];
  ranAt: number;
}

export const handler: Handlers = {
  async GET(_req, ctx) {
    ctx.state.title = "Integrity";
    return ctx.render({ checks: await checkChains(ctx.services.db, 50), ranAt: Date.now() } satisfies Data);
  },
};

/**
 * The link check of each recent session's hash chain, run on every visit (the "re-run" button reloads).
 * The full check that re-hashes stored bodies is `recondo verify`.
 */
export default function Integrity({ data }: PageProps<Data>) {
  const broken = data.checks.filter((c) => c.brokenAt !== null);
  return (
    <>
      <h1>Integrity</h1>
      <p>
        Checked {data.checks.length} most recent sessions at {time(data.ranAt)}: {broken.length === 0
          ? <strong class="ok">every chain links up</strong>
          : <strong class="bad">{broken.length} broken</strong>}. For a full verification of stored bodies and
        signatures run <code>deno task recondo verify</code>.
      </p>
      <form method="get" action="/integrity">
        <button type="submit">Re-run check</button>
      </form>
      <table>
        <thead>
          <tr>
            <th scope="col">Session</th>
            <th scope="col" class="num">Turns</th>
            <th scope="col">Chain</th>
            <th scope="col" class="num">Signed heads</th>
            <th scope="col">Last signed</th>
          </tr>
        </thead>
        <tbody>
          {data.checks.map((c) => (
            <tr>
              <td>
                <a href={`/sessions/${encodeURIComponent(c.sessionId)}`}>{c.sessionId.slice(0, 12)}</a>
              </td>
              <td class="num">{c.turns}</td>
              <td class={c.brokenAt === null ? "ok" : "bad"}>
                {c.brokenAt === null ? "✓ intact" : `✗ broken at turn ${c.brokenAt}`}
              </td>
              <td class="num">{c.signedHeads}</td>
              <td>{c.lastSignedAt === null ? "—" : time(c.lastSignedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
