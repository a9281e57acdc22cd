/**
 * Test helper: captures a few exchanges through the real capture pipeline (`createCapture`: journal,
 * object store, database, chain-head signing) into a fresh data dir on either engine, then hands back
 * the environment a `recondo` subprocess needs to read it, and what was fed, so tests can compare the
 * CLI's output with it field by field.
 * @module
 */
import { join } from "node:path";
import { createCapture } from "../../capture/mod.ts";
import { fakeExchange, fakeParsed, messagesBody, usage } from "../../capture/test_exchange.ts";
import { dataPaths } from "../../config/paths.ts";
import type { Exchange } from "../../core/exchange.ts";
import type { ToolCall, Usage } from "../../providers/types.ts";
import { sharedPostgres } from "../../tests/support/postgres.ts";

/** One exchange to capture. */
export interface SeedTurn {
  at: number;
  clientSession: string;
  prompt: string;
  userText?: string | null;
  model?: string;
  usage: Usage;
  text?: string;
  toolCalls?: ToolCall[];
  toolResults?: { callId: string; content: string; isError: boolean }[];
  client?: Exchange["client"];
  decisions?: Exchange["decisions"];
  response?: string;
  /** The request body's exact bytes instead of a small one built from the prompt. */
  requestBody?: Uint8Array;
}

/** A seeded data dir. */
export interface Seeded extends AsyncDisposable {
  dir: string;
  engine: "sqlite" | "postgres";
  /** RECONDO_* variables for a subprocess. */
  env: Record<string, string>;
  /** Turn (= exchange) ids in the order fed. */
  turnIds: string[];
  /** Request bodies in the order fed. */
  requests: Uint8Array[];
  responses: Uint8Array[];
  /** The database URL (PostgreSQL) or file (SQLite). */
  database: string;
}

/** The price the seed uses: $3 per million input tokens, $15 per million output tokens. */
export function seedPrice(u: Usage): number {
  return (u.input * 3 + u.output * 15) / 1e6;
}

/** Captures `turns` (in order) into a fresh data dir and closes the capture, which signs the heads. */
export async function seedCapture(
  engine: "sqlite" | "postgres",
  turns: SeedTurn[],
  extraEnv: Record<string, string> = {},
): Promise<Seeded> {
  const dir = await Deno.makeTempDir({ prefix: "recondo-cli-" });
  const env: Record<string, string> = {
    RECONDO_DATA_DIR: dir,
    RECONDO_STORE: engine,
    RECONDO_OBJECTS: "local",
    RECONDO_LOG: "warn",
    NO_COLOR: "1",
    ...extraEnv,
  };
  if (engine === "postgres") env.RECONDO_DB_URL = await (await sharedPostgres()).createDatabase();
  const capture = await createCapture({
    paths: dataPaths(dir),
    config: { capture: { durability: "strict", flushIntervalMs: 5 } },
    env: { get: (name) => env[name] },
    price: (_provider, _model, u) => seedPrice(u),
    signIntervalMs: 3_600_000,
  });
  const turnIds: string[] = [];
  const requests: Uint8Array[] = [];
  const responses: Uint8Array[] = [];
  try {
    for (const t of turns) {
      const ex = fakeExchange({
        at: t.at,
        ...(t.client ? { client: t.client } : {}),
        decisions: t.decisions ?? [],
      });
      const request = t.requestBody ?? messagesBody(t.prompt, t.userText ? [t.userText] : []);
      const response = new TextEncoder().encode(
        t.response ?? `event: message_stop\ndata: ${t.text ?? "ok"}\n\n`,
      );
      const tap = capture.sink.begin(ex);
      tap.requestChunk(request);
      tap.responseChunk(response);
      await tap.end(
        ex,
        fakeParsed({
          sessionId: t.clientSession,
          userText: t.userText === undefined ? t.prompt : t.userText,
          usage: t.usage,
          text: t.text,
          model: t.model,
          toolCalls: t.toolCalls,
          toolResults: t.toolResults,
        }),
      );
      turnIds.push(ex.id);
      requests.push(request);
      responses.push(response);
    }
  } finally {
    await capture.close();
  }
  const close = () => Deno.remove(dir, { recursive: true }).catch(() => {});
  return {
    dir,
    engine,
    env,
    turnIds,
    requests,
    responses,
    database: engine === "postgres" ? env.RECONDO_DB_URL : join(dir, "recondo.db"),
    [Symbol.asyncDispose]: close,
  };
}

/** Result of one `recondo` subprocess. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  stdoutBytes: Uint8Array;
}

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** Runs `deno run -A main.ts …args` with `env` added to the environment. */
export async function runRecondo(args: string[], env: Record<string, string>): Promise<CliRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-no-legacy-abort", MAIN, ...args],
    env,
    stdin: "null",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
    stdoutBytes: out.stdout,
  };
}

/** Runs `recondo …args --json` and parses stdout; throws with stderr when it is not JSON. */
export async function runJson<T>(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; json: T }> {
  const run = await runRecondo([...args, "--json"], env);
  try {
    return { code: run.code, json: JSON.parse(run.stdout) as T };
  } catch (error) {
    throw new Error(`recondo ${args.join(" ")} --json printed no JSON (exit ${run.code}): ${run.stderr}`, {
      cause: error,
    });
  }
}

export { usage };
