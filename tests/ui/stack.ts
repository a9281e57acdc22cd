/**
 * Test support: the gateway as `recondo serve` would run it with the UI mounted on its port — real capture
 * (SQLite + local object folder), real policy services, the fake provider upstream — plus accounts and a
 * session with tool calls written by capture's own persistence code.
 * @module
 */
import { join } from "node:path";
import { loadConfig } from "../../config/load.ts";
import { loadUiSecrets, type UiSecrets } from "../../config/ui_files.ts";
import { dataPaths } from "../../config/paths.ts";
import { startGateway } from "../../proxy/gateway.ts";
import { wireGateway } from "../../cli/wiring.ts";
import { createUi, type Ui } from "../../ui/app.ts";
import { hashPassword } from "../../ui/password.ts";
import { upsertUser } from "../../storage/ui/users.ts";
import { type FakeProvider, startFakeProvider } from "../fake_provider/mod.ts";
import { persistRecord } from "../../capture/persist.ts";
import { buildRecord } from "../../capture/record.ts";
import { fakeExchange } from "../../capture/test_exchange.ts";
import { anthropicTurn, type ScriptedTurn } from "./anthropic_turn.ts";
import { loadOrCreateHmacKey } from "../../capture/credentials.ts";
import type { Db } from "../../storage/db/db.ts";
import type { ObjectStore } from "../../storage/objects/store.ts";
import type { Gateway } from "../../proxy/gateway.ts";

/** Passwords of the seeded accounts. */
export const ADMIN = { name: "ana", password: "admin-password-1" };
export const VIEWER = { name: "victor", password: "viewer-password-1" };

export interface UiStack {
  url: string;
  dataDir: string;
  configFile: string;
  db: Db;
  objects: ObjectStore;
  gateway: Gateway;
  ui: Ui;
  /** The UI's HTTPS certificate and key from `ui.tls` in the config, or `null`. */
  uiTls: UiSecrets["tls"];
  fake: FakeProvider;
  /** A fetch client that proxies through the gateway (as developer `name` when given) and trusts its CA. */
  proxyClient(name?: string, token?: string): Deno.HttpClient;
  close(): Promise<void>;
}

/** Starts everything on loopback; `config` is written to the config file first (in `options.dataDir` if given). */
export async function startUiStack(
  config: Record<string, unknown> = {},
  options: { dataDir?: string } = {},
): Promise<UiStack> {
  // An existing data dir (e.g. what a real agent run captured) is served as it is, and removed on close.
  const dataDir = options.dataDir ?? await Deno.makeTempDir({ prefix: "recondo-ui-" });
  const configFile = join(dataDir, "recondo.json");
  await Deno.writeTextFile(configFile, JSON.stringify({ listen: "127.0.0.1:0", ...config }, null, 2));
  const fake = await startFakeProvider({ behavior: { usage: { input: 1200, output: 80 } } });
  // OpenRouter too, for the pages' provider-reported cost (a test lists it in `intercept`).
  const vars: Record<string, string> = {
    RECONDO_UPSTREAM_OVERRIDE: `api.anthropic.com=${fake.url},openrouter.ai=${fake.url}`,
  };
  const env = { get: (name: string) => vars[name] };
  const paths = dataPaths(dataDir);
  const loaded = await loadConfig(configFile, env);
  // As `serve` does: the UI's secrets (TLS, single sign-on) are read from the files the config names.
  const uiSecrets = await loadUiSecrets(loaded.ui, env);
  const wiring = await wireGateway(paths, loaded, env);
  const capture = wiring.capture!;
  const ref: { gateway?: Gateway } = {};
  const ui = await createUi({
    dataDir,
    db: capture.db,
    objects: capture.objects,
    configPath: configFile,
    gateway: () => ref.gateway,
    policyServices: wiring.services,
    hmacKey: wiring.hmacKey,
    oidc: uiSecrets.oidc,
  });
  const gateway = ref.gateway = await startGateway({
    dataDir,
    configPath: configFile,
    env,
    sink: wiring.sink,
    parsers: wiring.parsers,
    services: wiring.services,
    watch: false,
    local: async (req) => (await ui.handle(req)) ?? new Response("Not found\n", { status: 404 }),
  });
  await upsertUser(capture.db, {
    name: ADMIN.name,
    role: "admin",
    passwordHash: await hashPassword(ADMIN.password),
  });
  await upsertUser(capture.db, {
    name: VIEWER.name,
    role: "viewer",
    passwordHash: await hashPassword(VIEWER.password),
  });
  const caPem = await Deno.readTextFile(gateway.caCertPath);
  const g = gateway;
  return {
    url: `http://127.0.0.1:${g.port}`,
    dataDir,
    configFile,
    db: capture.db,
    objects: capture.objects,
    gateway: g,
    ui,
    uiTls: uiSecrets.tls,
    fake,
    proxyClient: (name, token) =>
      Deno.createHttpClient({
        caCerts: [caPem],
        proxy: {
          url: `http://127.0.0.1:${g.port}`,
          ...(name && token ? { basicAuth: { username: name, password: token } } : {}),
        },
      }),
    async close() {
      await g.close();
      await ui.close();
      await wiring.shutdown();
      await fake.close();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
  };
}

/**
 * Writes a three-turn coding session (a Bash tool call, its result, a file edit) through capture's own
 * persistence, as the pipeline would after a Claude Code run: real Anthropic bodies, parsed by the real
 * provider parsers, so the stored bytes and the trace agree. Returns its session id.
 */
export async function seedToolSession(
  stack: UiStack,
  prompt = "fix the failing parser test",
): Promise<string> {
  const key = await loadOrCreateHmacKey(dataPaths(stack.dataDir).secretKey);
  const start = Date.now() - 60_000;
  let sessionId = "";
  const turns: ScriptedTurn[] = [
    {
      text: "Let me run the tests first.",
      toolCalls: [{ id: "toolu_01", name: "Bash", input: { command: "deno test parser_test.ts" } }],
      toolResults: [],
    },
    {
      thinking: "The failure names line 42; the loop runs one step too far.",
      text: "The loop bound is off by one; fixing it.",
      toolCalls: [{
        id: "toolu_02",
        name: "Edit",
        input: { file_path: "/home/dev/recondo/parser.ts", old_string: "i <= n", new_string: "i < n" },
      }],
      toolResults: [{
        callId: "toolu_01",
        content: "FAILED parser_test.ts: off by one at line 42",
        isError: true,
      }],
    },
    {
      text: "Fixed: the parser loop now stops before n. All tests pass.",
      toolCalls: [],
      toolResults: [{ callId: "toolu_02", content: "The file has been updated.", isError: false }],
    },
  ];
  for (const index of turns.keys()) {
    const at = start + index * 10_000;
    const turn = anthropicTurn(prompt, turns, {
      index,
      sessionId: "4f0c1d2e-claude-code-ui-test",
      input: 3000 + index * 500,
      output: 120,
    });
    const record = buildRecord(
      fakeExchange({ at }),
      turn.parsed,
      { request: turn.request, response: turn.response },
      key,
      { now: at + 500 },
    );
    const result = await persistRecord(stack.db, stack.objects, record, {
      idleGapMs: 30 * 60_000,
      price: (_p, _m, u) => (u.input * 3 + u.output * 15) / 1e6,
    });
    if (result.status === "written" && result.sessionId) sessionId = result.sessionId;
  }
  if (!sessionId) throw new Error("seedToolSession: capture wrote no session");
  return sessionId;
}
