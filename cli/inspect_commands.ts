/**
 * The CLI inspector: `recondo sessions`, `session <id> [--turns]`, `turn <id>`, `search <text>` and
 * `stats`. Read-only views over the capture database (and, for `turn --request/--response`, the object
 * store), chosen like the gateway chooses them. Human output is aligned tables; `--json` prints the
 * snake_case shapes of `storage/queries.ts`, which other tools rely on.
 * @module
 */
import type { Argv, CommandModule } from "./yargs.ts";
import { openStores } from "./inspect/open_stores.ts";
import { STAT_DIMENSIONS, type StatDimension, type StatRow, usageStats } from "./inspect/stats_query.ts";
import { type Column, count, renderTable, usd, useColor, when } from "./inspect/table.ts";
import { renderSession, renderTurn, sessionColumns } from "./inspect/views.ts";
import { parseTime } from "./inspect/time_range.ts";
import { getSession, getTurn, listSessions, type SearchHit, searchTurns } from "../storage/queries.ts";
import { readBody } from "../storage/bodies/read.ts";

interface FilterArgs {
  json: boolean;
  developer?: string;
  team?: string;
  provider?: string;
  since?: string;
  until?: string;
}

function filterOptions<T>(y: Argv<T>) {
  return y
    .option("json", { type: "boolean", default: false, describe: "Print JSON" })
    .option("developer", { type: "string", describe: "Only this developer" })
    .option("team", { type: "string", describe: "Only this team" })
    .option("provider", { type: "string", describe: "Only this provider (anthropic, openai, google)" })
    .option("since", { type: "string", describe: "From this time: ISO date or age (7d, 24h, 30m)" })
    .option("until", { type: "string", describe: "Before this time: ISO date or age" });
}

function print(json: boolean, value: unknown, human: () => string): void {
  console.log(json ? JSON.stringify(value, null, 2) : human());
}

function positiveInt(option: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw new RangeError(`--${option} must be a positive integer, got "${value}"`);
  }
  return value;
}

interface SessionsArgs extends FilterArgs {
  limit: number;
}

export const sessionsCommand: CommandModule<object, SessionsArgs> = {
  command: "sessions",
  describe: "List captured sessions, most recently active first",
  builder: (y) =>
    filterOptions(y).option("limit", { type: "number", default: 50, describe: "At most this many sessions" }),
  async handler(args) {
    const limit = positiveInt("limit", args.limit);
    const since = args.since === undefined ? undefined : parseTime("since", args.since);
    const until = args.until === undefined ? undefined : parseTime("until", args.until);
    await using stores = await openStores(Deno.env);
    const sessions = await listSessions(stores.db, {
      developer: args.developer,
      team: args.team,
      provider: args.provider,
      since,
      until,
      limit,
    });
    print(
      args.json,
      sessions,
      () =>
        sessions.length
          ? renderTable(sessionColumns, sessions, { color: useColor() })
          : "No sessions captured.",
    );
  },
};

interface IdArgs {
  id: string;
  json: boolean;
}

export const sessionCommand: CommandModule<object, IdArgs & { turns: boolean }> = {
  command: "session <id>",
  describe: "Show one session; --turns lists its turns",
  builder: (y) =>
    y
      .positional("id", { type: "string", demandOption: true, describe: "Session id" })
      .option("turns", { type: "boolean", default: false, describe: "List the turns" })
      .option("json", { type: "boolean", default: false, describe: "Print JSON (always with turns)" }),
  async handler(args) {
    await using stores = await openStores(Deno.env);
    const session = await getSession(stores.db, args.id);
    if (!session) throw new Error(`No session "${args.id}"`);
    print(args.json, session, () => renderSession(session, { turns: args.turns, color: useColor() }));
  },
};

interface TurnArgs extends IdArgs {
  request: boolean;
  response: boolean;
}

export const turnCommand: CommandModule<object, TurnArgs> = {
  command: "turn <id>",
  describe: "Show one turn: prompt, response, tool calls and results, decisions, hashes",
  builder: (y) =>
    y
      .positional("id", { type: "string", demandOption: true, describe: "Turn id" })
      .option("json", { type: "boolean", default: false, describe: "Print JSON" })
      .option("request", { type: "boolean", default: false, describe: "Print the stored request body" })
      .option("response", { type: "boolean", default: false, describe: "Print the stored response body" }),
  async handler(args) {
    if (args.request && args.response) throw new RangeError("turn prints --request or --response, not both");
    const wantBody = args.request || args.response;
    // Always with the object store: tool results kept as request segments are read from it.
    await using stores = await openStores(Deno.env, { objects: true });
    const turn = await getTurn(stores.db, args.id, { objects: stores.objects });
    if (!turn) throw new Error(`No turn "${args.id}"`);
    if (wantBody) {
      const sha = args.request ? turn.request_sha256 : turn.response_sha256;
      const body = await readBody(stores.db, stores.objects!, sha);
      if (body === null) {
        throw new Error(`Body ${sha} of turn "${args.id}" is missing from the store or damaged (run verify)`);
      }
      await Deno.stdout.write(body);
      return;
    }
    print(args.json, turn, () => renderTurn(turn, useColor()));
  },
};

export const searchCommand: CommandModule<object, { text: string; json: boolean; limit: number }> = {
  command: "search <text>",
  describe: "Find turns whose prompt, response or tool calls contain the text (case-insensitive)",
  builder: (y) =>
    y
      .positional("text", { type: "string", demandOption: true, describe: "Text to look for" })
      .option("json", { type: "boolean", default: false, describe: "Print JSON" })
      .option("limit", { type: "number", default: 50, describe: "At most this many hits" }),
  async handler(args) {
    const text = String(args.text);
    if (!text.trim()) throw new RangeError("search needs some text to look for");
    const limit = positiveInt("limit", args.limit);
    await using stores = await openStores(Deno.env);
    const hits = await searchTurns(stores.db, text, { limit });
    print(args.json, hits, () =>
      hits.length
        ? renderTable<SearchHit>(
          [
            { header: "WHEN", value: (h) => when(h.started_at) },
            { header: "SESSION", value: (h) => h.session_id, max: 36 },
            { header: "SEQ", value: (h) => h.seq },
            { header: "TURN", value: (h) => h.turn_id },
            { header: "IN", value: (h) => h.matched_in },
            { header: "MATCH", value: (h) => h.snippet, max: 80 },
          ],
          hits,
          { color: useColor() },
        )
        : `Nothing matches "${text}".`);
  },
};

interface StatsArgs extends FilterArgs {
  by: string[];
}

export const statsCommand: CommandModule<object, StatsArgs> = {
  command: "stats",
  describe: "Tokens and cost by provider, model, developer, team and/or day",
  builder: (y) =>
    filterOptions(y).option("by", {
      type: "string",
      array: true,
      default: ["provider"],
      describe: `Group by (repeatable, or comma-separated): ${STAT_DIMENSIONS.join(", ")}`,
    }),
  async handler(args) {
    const by = args.by.flatMap((b) => String(b).split(",")).map((b) => b.trim()).filter(Boolean);
    for (const b of by) {
      if (!(STAT_DIMENSIONS as readonly string[]).includes(b)) {
        throw new RangeError(`--by must be one of ${STAT_DIMENSIONS.join(", ")}; got "${b}"`);
      }
    }
    const since = args.since === undefined ? undefined : parseTime("since", args.since);
    const until = args.until === undefined ? undefined : parseTime("until", args.until);
    await using stores = await openStores(Deno.env);
    const rows = await usageStats(stores.db, {
      by: by as StatDimension[],
      since,
      until,
      developer: args.developer,
      team: args.team,
      provider: args.provider,
    });
    print(args.json, rows, () => {
      if (!rows.length) return "No turns captured in that range.";
      const columns: Column<StatRow>[] = [
        ...(by as StatDimension[]).map((d) => ({
          header: d.toUpperCase(),
          value: (r: StatRow) => r[d] ?? null,
        })),
        { header: "SESSIONS", value: (r) => r.sessions },
        { header: "TURNS", value: (r) => r.turns },
        { header: "IN", value: (r) => count(r.input_tokens), align: "right" },
        { header: "OUT", value: (r) => count(r.output_tokens), align: "right" },
        { header: "CACHE R", value: (r) => count(r.cache_read_tokens), align: "right" },
        { header: "CACHE W", value: (r) => count(r.cache_write_tokens), align: "right" },
        { header: "COST", value: (r) => usd(r.cost_usd), align: "right" },
      ];
      return renderTable(columns, rows, { color: useColor() });
    });
  },
};

/** Every inspector command, for `cli/main.ts`. */
export const inspectCommands = [sessionsCommand, sessionCommand, turnCommand, searchCommand, statsCommand];
