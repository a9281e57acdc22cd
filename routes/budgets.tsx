import type { Handlers, PageProps } from "./_lib/context.ts";
import { seeOther } from "./_lib/context.ts";
import type { PolicyEntry } from "../config/schema.ts";
import { CsrfField } from "../components/CsrfField.tsx";
import { usd } from "../components/format.ts";
import { type BudgetRow, currentBudgets } from "../storage/ui/activity.ts";
import { periodStarts, spendBy, type SpendRow } from "../storage/ui/overview.ts";
import { REPORT_GROUPS } from "../storage/reports/chargeback.ts";

interface Cap {
  entry: number;
  budget: number;
  scope: string;
  usd: number;
  period: string;
}

interface Line {
  scope: string;
  period: string;
  spentUsd: number;
  reservedUsd: number;
  cap: Cap | null;
}

interface Data {
  lines: Line[];
  caps: Cap[];
  byTeam: SpendRow[];
  byDeveloper: SpendRow[];
  canEdit: boolean;
  /** The current UTC month, `2026-11`, for the chargeback links. */
  month: string;
  csrf?: string;
  error?: string;
}

/** The `budgets` of every `spend-cap` entry in the chain. */
function capsOf(entries: PolicyEntry[]): Cap[] {
  const caps: Cap[] = [];
  entries.forEach((entry, i) => {
    if (entry.use !== "spend-cap" || !entry.enabled) return;
    const budgets =
      (entry.options as { budgets?: { scope: string; usd: number; period: string }[] })?.budgets ?? [];
    budgets.forEach((b, j) =>
      caps.push({ entry: i, budget: j, scope: b.scope, usd: b.usd, period: b.period })
    );
  });
  return caps;
}

function capFor(caps: Cap[], row: BudgetRow): Cap | null {
  const kind = row.scope.split(":")[0];
  return caps.find((c) => c.period === row.period && c.scope === row.scope) ??
    caps.find((c) => c.period === row.period && c.scope === `${kind}:*`) ?? null;
}

async function load(ctx: Parameters<NonNullable<Handlers["GET"]>>[1]): Promise<Data> {
  const caps = capsOf(ctx.services.config().policies);
  const rows = await currentBudgets(ctx.services.db);
  const lines: Line[] = rows.map((r) => ({ ...r, cap: capFor(caps, r) }));
  for (const cap of caps) {
    if (!cap.scope.endsWith(":*") && !lines.some((l) => l.scope === cap.scope && l.period === cap.period)) {
      lines.push({ scope: cap.scope, period: cap.period, spentUsd: 0, reservedUsd: 0, cap });
    }
  }
  const { month } = periodStarts();
  return {
    lines,
    caps,
    byTeam: await spendBy(ctx.services.db, "team", month),
    byDeveloper: await spendBy(ctx.services.db, "developer", month),
    canEdit: ctx.state.user?.role === "admin",
    month: new Date(month).toISOString().slice(0, 7),
    csrf: ctx.state.user?.csrf,
  };
}

export const handler: Handlers = {
  async GET(_req, ctx) {
    ctx.state.title = "Budgets";
    return ctx.render(await load(ctx));
  },
  async POST(req, ctx) {
    const form = await req.formData();
    const entries = structuredClone(ctx.services.config().policies);
    const entry = entries[Number(form.get("entry"))];
    const budgets = (entry?.options as { budgets?: { scope: string; usd: number }[] } | undefined)?.budgets;
    const budget = budgets?.[Number(form.get("budget"))];
    const value = Number(form.get("usd"));
    if (!entry || entry.use !== "spend-cap" || !budget || budget.scope !== form.get("scope")) {
      return ctx.render({
        ...(await load(ctx)),
        error: "That cap changed since the page was loaded; try again.",
      }, { status: 409 });
    }
    if (!Number.isFinite(value) || value <= 0) {
      return ctx.render({
        ...(await load(ctx)),
        error: `A cap must be a positive amount of USD, got "${form.get("usd")}"`,
      }, {
        status: 422,
      });
    }
    const before = budget.usd;
    budget.usd = value;
    const note = `cap ${budget.scope} ${before} → ${value} USD`;
    const result = await ctx.services.savePolicies(entries, ctx.state.user!.name, note);
    if (!result.ok) {
      return ctx.render({ ...(await load(ctx)), error: `Not saved: ${result.reason}` }, { status: 422 });
    }
    return seeOther(`/budgets?notice=${encodeURIComponent(`Saved: ${note}`)}`);
  },
};

/** Spend against each cap, with the cap editable in place (saved as a new policy chain version). */
export default function Budgets({ data }: PageProps<Data>) {
  return (
    <>
      <h1>Budgets</h1>
      {data.error ? <p class="notice error" role="alert">{data.error}</p> : null}
      {data.caps.length === 0
        ? (
          <p class="empty">
            No enabled spend-cap policy: add one on the <a href="/policies">Policies</a> page.
          </p>
        )
        : null}
      <table>
        <thead>
          <tr>
            <th scope="col">Scope</th>
            <th scope="col">Period</th>
            <th scope="col">Spent</th>
            <th scope="col">Cap</th>
            <th scope="col">Used</th>
          </tr>
        </thead>
        <tbody>
          {data.lines.map((l) => {
            const cap = l.cap?.usd ?? null;
            const used = cap ? Math.min(l.spentUsd / cap, 1) : 0;
            const id = `cap-${l.scope}-${l.period}`.replace(/[^a-zA-Z0-9-]/g, "_");
            return (
              <tr>
                <th scope="row">{l.scope}</th>
                <td>{l.period}</td>
                <td>{usd(l.spentUsd)}{l.reservedUsd ? ` (+${usd(l.reservedUsd)} in flight)` : ""}</td>
                <td>
                  {l.cap
                    ? (
                      <form method="post" action="/budgets" class="inline">
                        <CsrfField token={data.csrf} />
                        <input type="hidden" name="entry" value={String(l.cap.entry)} />
                        <input type="hidden" name="budget" value={String(l.cap.budget)} />
                        <input type="hidden" name="scope" value={l.cap.scope} />
                        <label for={id} class="sr-only">Cap for {l.cap.scope} per {l.period} (USD)</label>
                        <input
                          id={id}
                          name="usd"
                          type="number"
                          min="0.01"
                          step="0.01"
                          value={String(l.cap.usd)}
                          disabled={!data.canEdit}
                        />
                        {data.canEdit ? <button type="submit">Save</button> : null}
                        {l.cap.scope !== l.scope ? <small class="muted">from {l.cap.scope}</small> : null}
                      </form>
                    )
                    : "—"}
                </td>
                <td>
                  {cap
                    ? (
                      <>
                        <progress
                          max={1}
                          value={used}
                          aria-label={`${Math.round(used * 100)}% of cap`}
                          class={used >= 1 ? "over" : ""}
                        />{" "}
                        {Math.round((l.spentUsd / cap) * 100)}%
                      </>
                    )
                    : "—"}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <section aria-labelledby="chargeback">
        <h2 id="chargeback">Chargeback</h2>
        <p>
          Tokens and cost per group for {data.month} (UTC), unpriced usage listed apart, as CSV:{" "}
          {REPORT_GROUPS.map((by, i) => (
            <>
              {i ? ", " : ""}
              <a href={`/budgets/report.csv?${new URLSearchParams({ by, period: data.month })}`} download>
                by {by}
              </a>
            </>
          ))}. The same as <code>recondo report --by team --period {data.month} --format csv</code>.
        </p>
      </section>
      <div class="grid">
        <table>
          <caption>This month by team</caption>
          <tbody>
            {data.byTeam.map((r) => (
              <tr>
                <td>{r.key ?? "unknown"}</td>
                <td class="num">{usd(r.costUsd)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <table>
          <caption>This month by developer</caption>
          <tbody>
            {data.byDeveloper.map((r) => (
              <tr>
                <td>{r.key ?? "unknown"}</td>
                <td class="num">{usd(r.costUsd)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
