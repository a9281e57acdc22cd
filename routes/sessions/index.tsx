import type { Handlers, PageProps } from "../_lib/context.ts";
import { clip, count, time, usd } from "../../components/format.ts";
import {
  type BrowseFilter,
  type BrowsePage,
  browseSessions,
  distinctValues,
} from "../../storage/ui/browse.ts";

const COLUMNS = ["developer", "team", "repo", "provider", "model"] as const;

interface Data {
  page: BrowsePage;
  filter: Record<string, string>;
  options: Record<(typeof COLUMNS)[number], string[]>;
  error?: string;
}

function dayStart(value: string | null): number | undefined {
  if (!value || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return undefined;
  return Date.parse(`${value}T00:00:00Z`);
}

export const handler: Handlers = {
  async GET(_req, ctx) {
    const q = ctx.url.searchParams;
    const filter: BrowseFilter = { limit: 50 };
    const echo: Record<string, string> = {};
    for (const column of COLUMNS) {
      const value = q.get(column);
      if (value) filter[column] = echo[column] = value;
    }
    const from = q.get("from");
    const to = q.get("to");
    filter.since = dayStart(from);
    const toStart = dayStart(to);
    filter.until = toStart === undefined ? undefined : toStart + 86_400_000;
    if (from) echo.from = from;
    if (to) echo.to = to;
    const text = q.get("q")?.trim();
    if (text) filter.q = echo.q = text.slice(0, 200);
    const after = q.get("after");
    if (after) filter.after = after;
    const options = {} as Data["options"];
    for (const column of COLUMNS) options[column] = await distinctValues(ctx.services.db, column);
    ctx.state.title = "Sessions";
    try {
      return ctx.render(
        { page: await browseSessions(ctx.services.db, filter), filter: echo, options } satisfies Data,
      );
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      return ctx.render(
        { page: { rows: [], next: null }, filter: echo, options, error: error.message } satisfies Data,
        {
          status: 400,
        },
      );
    }
  },
};

export default function Sessions({ data }: PageProps<Data>) {
  const f = data.filter;
  const nextQuery = new URLSearchParams({ ...f, ...(data.page.next ? { after: data.page.next } : {}) });
  return (
    <>
      <h1>Sessions</h1>
      <form method="get" action="/sessions" class="filters" role="search">
        <label>
          Search
          <input type="search" name="q" value={f.q ?? ""} placeholder="prompt, response or tool call" />
        </label>
        {COLUMNS.map((column) => (
          <label>
            {column[0].toUpperCase() + column.slice(1)}
            <select name={column}>
              <option value="">any</option>
              {data.options[column].map((v) => (
                <option key={v} value={v} selected={f[column] === v}>{v}</option>
              ))}
            </select>
          </label>
        ))}
        <label>
          From
          <input type="date" name="from" value={f.from ?? ""} />
        </label>
        <label>
          To
          <input type="date" name="to" value={f.to ?? ""} />
        </label>
        <button type="submit">Filter</button>
        <a href="/sessions">Clear</a>
      </form>
      {data.error ? <p class="notice error" role="alert">{data.error}</p> : null}
      <table>
        <thead>
          <tr>
            <th scope="col">Last activity</th>
            <th scope="col">Session</th>
            <th scope="col">Developer</th>
            <th scope="col">Team</th>
            <th scope="col">Repo</th>
            <th scope="col">Model</th>
            <th scope="col">Intent</th>
            <th scope="col" class="num">Turns</th>
            <th scope="col" class="num">Tokens in/out</th>
            <th scope="col" class="num">Cost</th>
          </tr>
        </thead>
        <tbody>
          {data.page.rows.length === 0
            ? (
              <tr>
                <td colSpan={10} class="empty">No sessions match.</td>
              </tr>
            )
            : null}
          {data.page.rows.map((s) => (
            <tr>
              <td>{time(s.lastActivityAt)}</td>
              <td>
                <a href={`/sessions/${encodeURIComponent(s.id)}`}>{s.id.slice(0, 12)}</a>
              </td>
              <td>{s.developer ?? "—"}</td>
              <td>{s.team ?? "—"}</td>
              <td>{s.repo ? `${s.repo}${s.branch ? `@${s.branch}` : ""}` : "—"}</td>
              <td>{s.model ?? s.provider}</td>
              <td>{clip(s.intent, 60)}</td>
              <td class="num">{s.turnCount}</td>
              <td class="num">{count(s.inputTokens)} / {count(s.outputTokens)}</td>
              <td class="num">{usd(s.costUsd)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <nav class="pager" aria-label="Pages">
        {data.page.next
          ? <a href={`/sessions?${nextQuery}`} rel="next">Older sessions →</a>
          : <span>End of list</span>}
      </nav>
    </>
  );
}
