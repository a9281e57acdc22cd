/**
 * Records what the real agent CLIs send into tests/fixtures/clients/, the request fixtures the provider
 * parsers, API detection and the redaction corpus are tested on.
 *
 *   deno run -A --unstable-no-legacy-abort scripts/record_fixtures.ts [run…]
 *
 * Needs the CLIs from `bash scripts/install_agents.sh` and `unshare` (root); re-executes itself inside
 * `unshare -n` (loopback only), so no CLI can reach a real host. There it starts the fake provider
 * (tests/fake_provider/, HTTPS) and the gateway exactly as a user would (`main.ts serve`, with the fake as
 * every provider's upstream), runs each CLI as tests/agents/ does (fresh HOME, clean environment,
 * `timeout`, no stdin), and writes every request the fake received through the gateway: method, path,
 * headers (credentials replaced by `REDACTED`), body, and the fake's answer. A WebSocket's client frames go
 * to `ws-messages.jsonl` beside the upgrade request. Each run replaces its folder
 * `tests/fixtures/clients/<client>/<run>/`; without arguments every run is recorded. The client versions
 * are those pinned in scripts/install_agents.sh; the folder's README.md names them.
 * @module
 */
import { join } from "node:path";
import { type RecordedRequest, startFakeProvider } from "../tests/fake_provider/mod.ts";
import type { FakeBehavior } from "../tests/fake_provider/behavior.ts";
import { startFakeMetadataServer } from "../tests/fake_provider/gce_metadata.ts";
import { makeTestCertificate } from "../tests/fake_provider/tls.ts";
import { type GatewayProcess, startGatewayProcess } from "../tests/agents/gateway_process.ts";
import { runScenario } from "../tests/agents/run_scenario.ts";
import {
  agentsBinDir,
  AZURE_HOST,
  OPENROUTER_HOST,
  type Scenario,
  SCENARIOS,
  VERTEX_HOSTS,
} from "../tests/agents/scenarios.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const OUT = join(ROOT, "tests", "fixtures", "clients");
const AGENTS = join(agentsBinDir(), "..", "..");

/** The provider hosts (Vertex AI's too), and Gemini CLI's usage-statistics host, all answered by the fake through the gateway. */
const HOSTS = [
  "api.anthropic.com",
  "api.openai.com",
  "generativelanguage.googleapis.com",
  AZURE_HOST,
  OPENROUTER_HOST,
  "play.googleapis.com",
  ...VERTEX_HOSTS,
  "bedrock-runtime.us-east-1.amazonaws.com",
];
const ANSWER = "RECONDO-FAKE-OK";
/** The prompt of the tool runs: the fake answers it with a command call, then the text once the output is back. */
const TOOL_PROMPT = "FAKE_TOOL: run the marker command";
const CREDENTIAL_HEADERS = new Set([
  "authorization",
  "proxy-authorization",
  "x-api-key",
  "x-goog-api-key",
  "api-key",
  "x-amz-security-token",
  "cookie",
]);
const QUIET_CLAUDE = [
  "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC",
  "DISABLE_TELEMETRY",
  "DISABLE_ERROR_REPORTING",
  "DISABLE_AUTOUPDATER",
];

/** One recording: a CLI run and the folder its requests go to. */
interface Recording {
  client: "claude-code" | "codex" | "gemini-cli" | "sdk";
  run: string;
  scenario: Scenario;
  prompt: string;
  behavior: Partial<Omit<FakeBehavior, "usage">>;
  /** What the run is, for README.md. */
  about: string;
  /** Where the scenario's `bin` is (default: the agent CLIs' bin directory). */
  binDir?: string;
}

/** The official SDKs, pinned; installed on demand into .cache/sdks (only recording needs them). */
const SDK_DIR = join(ROOT, ".cache", "sdks");
const SDK_PINS = ["@anthropic-ai/sdk@1.14.0", "openai@6.49.0", "@google/genai@2.32.0", "undici@6.29.1"];

async function installSdks(): Promise<void> {
  const have = SDK_PINS.every((pin) => {
    const at = pin.lastIndexOf("@");
    try {
      return version(pin.slice(0, at), SDK_DIR) === pin.slice(at + 1);
    } catch {
      return false;
    }
  });
  if (have) return;
  await Deno.mkdir(SDK_DIR, { recursive: true });
  await Deno.writeTextFile(join(SDK_DIR, "package.json"), '{"name":"recondo-record-sdks","private":true}\n');
  const npm = await new Deno.Command("npm", {
    args: [
      "install",
      "--prefix",
      SDK_DIR,
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      "--save-exact",
      ...SDK_PINS,
    ],
  }).output();
  if (!npm.success) {
    throw new Error(`npm install of ${SDK_PINS.join(" ")} failed: ${new TextDecoder().decode(npm.stderr)}`);
  }
}

function nodeBinDir(): string {
  const which = new Deno.Command("sh", { args: ["-c", "command -v node"], stdout: "piped" }).outputSync();
  return join(new TextDecoder().decode(which.stdout).trim(), "..");
}

function version(pkg: string, dir = AGENTS): string {
  return JSON.parse(Deno.readTextFileSync(join(dir, "node_modules", pkg, "package.json"))).version;
}

function recordings(): Recording[] {
  const claude = SCENARIOS.claude;
  const gemini = SCENARIOS.gemini;
  return [
    {
      client: "claude-code",
      run: "claude",
      scenario: SCENARIOS["claude-tool"],
      prompt: TOOL_PROMPT,
      behavior: {
        toolScript: { name: "Bash", input: { command: "echo tool-ran", description: "Print a marker" } },
      },
      about: "`claude -p` with the quiet variables and `--allowedTools Bash`; the fake answers with a Bash " +
        "call, Claude Code runs it and sends the result back",
    },
    {
      client: "claude-code",
      run: `claude-${version("@anthropic-ai/claude-code")}-default`,
      scenario: {
        ...claude,
        args: (ctx) => ["-p", ctx.prompt],
        env: (ctx) =>
          Object.fromEntries(
            Object.entries(claude.env(ctx)).filter(([name]) => !QUIET_CLAUDE.includes(name)),
          ),
        expect: [{ method: "POST", path: /^\/v1\/messages/, host: "api.anthropic.com" }],
      },
      prompt: "say hi",
      behavior: {},
      about: "`claude -p` with its defaults: no `--model`, telemetry and the auxiliary endpoints on",
    },
    {
      client: "claude-code",
      run: "claude-bedrock",
      scenario: SCENARIOS["claude-bedrock"],
      prompt: "say hello",
      behavior: {},
      about: "`claude -p` in Bedrock mode (`CLAUDE_CODE_USE_BEDROCK=1 CLAUDE_CODE_SKIP_BEDROCK_AUTH=1 " +
        "AWS_REGION=us-east-1 ANTHROPIC_MODEL=us.anthropic.claude-sonnet-4-5-20250929-v1:0`, the quiet " +
        "variables): one unsigned `invoke-with-response-stream`; the fake's event-stream answer is stored base64",
    },
    {
      client: "codex",
      run: "codex",
      scenario: SCENARIOS["codex-ws"],
      prompt: TOOL_PROMPT,
      behavior: { functionCallScript: { name: "exec_command", arguments: { cmd: "echo tool-ran" } } },
      about: "`codex exec` over its WebSocket (prewarm, the turn, the tool output chained by " +
        "`previous_response_id`); the fake answers with an `exec_command` call",
    },
    {
      client: "codex",
      run: "codex-http",
      scenario: SCENARIOS["codex-http"],
      prompt: TOOL_PROMPT,
      behavior: { functionCallScript: { name: "exec_command", arguments: { cmd: "echo tool-ran" } } },
      about: "`codex exec` in HTTP-only mode (a custom provider with WebSockets off), with the tool call",
    },
    {
      client: "codex",
      run: "codex-ws-refused",
      scenario: {
        ...SCENARIOS["codex-ws"],
        expect: [{ method: "POST", path: "/v1/responses", host: "api.openai.com" }],
      },
      prompt: TOOL_PROMPT,
      behavior: {
        refuseWebSocket: true,
        functionCallScript: { name: "exec_command", arguments: { cmd: "echo tool-ran" } },
      },
      about:
        "`codex exec` whose WebSocket upgrade the fake refuses (426): it falls back to `POST /v1/responses`",
    },
    {
      client: "codex",
      run: "codex-azure",
      scenario: SCENARIOS["codex-azure"],
      prompt: TOOL_PROMPT,
      behavior: { functionCallScript: { name: "exec_command", arguments: { cmd: "echo tool-ran" } } },
      about: "`codex exec -m gpt5-prod` with an Azure OpenAI provider in `~/.codex/config.toml` " +
        '(`base_url` `https://myres.openai.azure.com/openai/v1`, `env_key = "AZURE_OPENAI_API_KEY"`, ' +
        '`query_params = { api-version = "preview" }`, `wire_api = "responses"`): Responses over HTTP (no WebSocket), ' +
        "the key as `Authorization: Bearer` (not `api-key`), the deployment as the body's `model`, with the " +
        "tool call",
    },
    {
      client: "gemini-cli",
      run: "gemini",
      scenario: gemini,
      prompt: TOOL_PROMPT,
      behavior: { functionCallScript: { name: "list_directory", arguments: { dir_path: "." } } },
      about: "`gemini -m gemini-2.5-flash -p` with usage statistics and telemetry off; the fake answers " +
        "with a `list_directory` call, Gemini CLI runs it and sends the function response back",
    },
    {
      client: "gemini-cli",
      run: "gemini-1",
      scenario: {
        ...gemini,
        args: (ctx) => ["-p", ctx.prompt],
        async prepareHome(home) {
          await Deno.mkdir(join(home, ".gemini"), { recursive: true });
          const settings = { general: { disableAutoUpdate: true, disableUpdateNag: true } };
          await Deno.writeTextFile(join(home, ".gemini", "settings.json"), JSON.stringify(settings));
        },
        expect: [{
          method: "POST",
          path: /:streamGenerateContent\?alt=sse$/,
          host: "generativelanguage.googleapis.com",
        }],
      },
      prompt: "say hi",
      behavior: {},
      about: "`gemini -p` with its defaults: no `-m` (the model router's `generateContent` first), usage " +
        "statistics on (`play.googleapis.com/log`)",
    },
    {
      client: "claude-code",
      run: "claude-vertex",
      scenario: SCENARIOS["claude-vertex"],
      prompt: "say hi",
      behavior: {},
      about: "`claude -p` on Vertex AI (`CLAUDE_CODE_USE_VERTEX=1`, `CLAUDE_CODE_SKIP_VERTEX_AUTH=1`, " +
        "`CLOUD_ML_REGION=us-east5`, `ANTHROPIC_VERTEX_PROJECT_ID`, `ANTHROPIC_MODEL=claude-sonnet-4-5@20250929`): " +
        "`:streamRawPredict` with the model in the path, no credential",
    },
    {
      client: "gemini-cli",
      run: "gemini-vertex",
      scenario: SCENARIOS["gemini-vertex"],
      prompt: TOOL_PROMPT,
      behavior: { functionCallScript: { name: "list_directory", arguments: { dir_path: "." } } },
      about: "`gemini -m gemini-2.5-flash -p` on Vertex AI (`GOOGLE_GENAI_USE_VERTEXAI=true`, " +
        "`GOOGLE_CLOUD_PROJECT`, `GOOGLE_CLOUD_LOCATION=us-east5`, no API key): the access token from the " +
        "fake metadata server (`GCE_METADATA_HOST`, `METADATA_SERVER_DETECTION=assume-present`) rides in " +
        "`authorization`; the fake answers with a `list_directory` call and gets the function response back",
    },
    {
      client: "gemini-cli",
      run: "gemini-vertex-express",
      scenario: {
        ...SCENARIOS["gemini-vertex"],
        env: (ctx) => {
          const env = SCENARIOS["gemini-vertex"].env(ctx);
          for (const name of ["GCE_METADATA_HOST", "METADATA_SERVER_DETECTION"]) delete env[name];
          return { ...env, GOOGLE_API_KEY: "AIza-recondo-fake-vertex" };
        },
        expect: [{
          method: "POST",
          path: "/v1beta1/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
          host: "aiplatform.googleapis.com",
        }],
      },
      prompt: "say hi",
      behavior: {},
      about:
        "`gemini -m gemini-2.5-flash -p` on Vertex AI in express mode (`GOOGLE_GENAI_USE_VERTEXAI=true` " +
        "with `GOOGLE_API_KEY`, which wins over `GOOGLE_CLOUD_PROJECT`/`GOOGLE_CLOUD_LOCATION`): the global host, " +
        "no project in the path, the key in `x-goog-api-key`",
    },
    {
      client: "sdk",
      run: "sdk",
      binDir: nodeBinDir(),
      scenario: {
        name: "claude",
        bin: "node",
        args: () => [join(ROOT, "scripts", "record_sdks.cjs")],
        env: (ctx) => ({
          HTTPS_PROXY: ctx.proxyUrl,
          NODE_EXTRA_CA_CERTS: ctx.caFile,
          RECONDO_SDK_DIR: SDK_DIR,
          ANTHROPIC_API_KEY: "sk-ant-api03-recondo-fake",
          OPENAI_API_KEY: "sk-proj-recondo-fake",
          GEMINI_API_KEY: "AIza-recondo-fake",
        }),
        expect: [
          { method: "POST", path: "/v1/messages", host: "api.anthropic.com" },
          { method: "POST", path: "/v1/responses", host: "api.openai.com" },
          { method: "POST", path: "/v1/chat/completions", host: "api.openai.com" },
          { method: "POST", path: /:streamGenerateContent/, host: "generativelanguage.googleapis.com" },
        ],
      },
      prompt: "hi",
      behavior: {},
      about:
        "the official Node SDKs (`@anthropic-ai/sdk`, `openai`, `@google/genai`, pinned in this script) " +
        "through undici's `EnvHttpProxyAgent`: Messages and Responses, each plain and streamed, a streamed Chat " +
        "Completion and a streamed Gemini `generateContent`",
    },
    {
      client: "sdk",
      run: "openrouter-sdk",
      scenario: SCENARIOS["openrouter-sdk"],
      prompt: "hi",
      behavior: {},
      about: "the official `openai` SDK with `baseURL` `https://openrouter.ai/api/v1` " +
        "(tests/agents/sdk/openrouter_openai_sdk.cjs, undici's `EnvHttpProxyAgent` preloaded): a streamed " +
        "Chat Completion with `stream_options.include_usage`, then a Responses call",
    },
  ];
}

/** `001-api.anthropic.com_v1_messages.json`: order, host, path without the query, cut at 80 characters. */
function fileName(index: number, request: RecordedRequest): string {
  const path = request.path.split("?")[0].replace(/^\//, "").replace(/[/:]/g, "_");
  return `${String(index + 1).padStart(3, "0")}-${`${request.host}_${path}`.slice(0, 80)}.json`;
}

async function decodeBody(request: RecordedRequest): Promise<unknown> {
  if (request.body.byteLength === 0) return null;
  let bytes = request.body;
  const encoding = request.headers.get("content-encoding");
  if (encoding === "gzip" || encoding === "deflate") {
    const stream = new Blob([new Uint8Array(bytes)]).stream().pipeThrough(new DecompressionStream(encoding));
    bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  }
  const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function headerPairs(headers: Headers): [string, string][] {
  return [...headers].map(([name, value]) => [name, CREDENTIAL_HEADERS.has(name) ? "REDACTED" : value]);
}

/** Writes one run's requests into its folder, replacing what was there. */
async function writeRun(recording: Recording, requests: RecordedRequest[]): Promise<void> {
  const dir = join(OUT, recording.client, recording.run);
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir, { recursive: true });
  const log: string[] = [];
  const wsLines: string[] = [];
  for (const [index, request] of requests.entries()) {
    const upgrade = request.headers.get("upgrade")?.toLowerCase() === "websocket";
    const ts = new Date(request.receivedAt).toISOString();
    const exchange = {
      ts,
      via: upgrade ? "mitm-upgrade" : "mitm",
      host: request.host,
      method: request.method,
      path: request.path,
      headers: headerPairs(request.headers),
      body: await decodeBody(request),
      response: request.response ?? null,
    };
    await Deno.writeTextFile(join(dir, fileName(index, request)), JSON.stringify(exchange, null, 2) + "\n");
    log.push(
      `${ts} ${exchange.via} ${request.method} https://${request.host}${request.path} -> ${
        request.response?.status ?? "?"
      }`,
    );
    for (const message of request.wsMessages ?? []) {
      wsLines.push(JSON.stringify({ host: request.host, path: request.path, msg: JSON.parse(message) }));
    }
  }
  await Deno.writeTextFile(join(dir, "requests.log"), log.join("\n") + "\n");
  if (wsLines.length > 0) await Deno.writeTextFile(join(dir, "ws-messages.jsonl"), wsLines.join("\n") + "\n");
}

async function writeReadme(done: Recording[]): Promise<void> {
  const pins = ["@anthropic-ai/claude-code", "@openai/codex", "@google/gemini-cli"]
    .map((pkg) => `\`${pkg}\` ${version(pkg)}`).join(", ");
  const sdks = SDK_PINS.map((pin) => `\`${pin}\``).join(", ");
  const runs = done.map((r) => `- \`${r.client}/${r.run}/\`: ${r.about}.`).join("\n");
  await Deno.writeTextFile(
    join(OUT, "README.md"),
    `# Real clients' requests

Recorded by \`deno run -A --unstable-no-legacy-abort scripts/record_fixtures.ts\` with ${pins} (pinned in
\`scripts/install_agents.sh\`) and the SDKs ${sdks}, on Node ${await nodeVersion()}. Each CLI ran inside \`unshare -n\` (loopback
only) with \`HTTPS_PROXY\` at \`main.ts serve\`, whose upstream for every provider host was the fake provider
(\`tests/fake_provider/\`): each \`NNN-<host>_<path>.json\` is one request as the fake received it through the
gateway (method, path, headers with credentials replaced by \`REDACTED\`, body), with the fake's answer in
\`response\` (stand-in answers, not the real providers'). \`ws-messages.jsonl\` holds a WebSocket's client
frames. The keys the CLIs were given were fake.

${runs}
`,
  );
}

async function nodeVersion(): Promise<string> {
  const out = await new Deno.Command("node", { args: ["--version"], stdout: "piped" }).output();
  return new TextDecoder().decode(out.stdout).trim();
}

function loopbackOnly(): boolean {
  const table = Deno.readTextFileSync("/proc/self/net/dev");
  return table.split("\n").slice(2).map((l) => l.split(":")[0].trim()).filter(Boolean).every((n) =>
    n === "lo"
  );
}

async function main(names: string[]): Promise<number> {
  const all = recordings();
  const chosen = names.length > 0
    ? all.filter((r) => names.includes(`${r.client}/${r.run}`) || names.includes(r.run))
    : all;
  if (chosen.length === 0) {
    console.error(`no such run; runs: ${all.map((r) => `${r.client}/${r.run}`).join(", ")}`);
    return 2;
  }
  const up = await new Deno.Command("ip", { args: ["link", "set", "lo", "up"] }).output();
  if (!up.success) throw new Error("'ip link set lo up' failed");
  const work = await Deno.makeTempDir({ prefix: "recondo-record-" });
  const material = makeTestCertificate();
  const fakeCaFile = join(work, "fake-provider-ca.pem");
  await Deno.writeTextFile(fakeCaFile, material.caCert);
  const configFile = join(work, "recondo.json");
  await Deno.writeTextFile(
    configFile,
    JSON.stringify({ intercept: ["play.googleapis.com", AZURE_HOST, OPENROUTER_HOST, ...VERTEX_HOSTS] }),
  );
  const fake = await startFakeProvider({
    tls: { cert: material.cert, key: material.key },
    recordResponses: true,
  });
  const metadata = startFakeMetadataServer();
  let gateway: GatewayProcess | undefined;
  let failed = 0;
  try {
    gateway = await startGatewayProcess({
      overrides: Object.fromEntries(HOSTS.map((host) => [host, fake.url])),
      extraCaFile: fakeCaFile,
      configFile,
    });
    for (const recording of chosen) {
      fake.setBehavior({ answer: ANSWER, ...recording.behavior });
      const from = fake.requests.length;
      const result = await runScenario(recording.scenario, {
        binDir: recording.binDir ?? agentsBinDir(),
        work,
        fake,
        gateway,
        fakeCaFile,
        answer: ANSWER,
        timeoutSec: 90,
        prompt: recording.prompt,
        metadataHost: metadata.host,
      });
      // The CLI has exited, so every answer has been sent; a moment lets the last recorded bodies complete.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const requests = fake.requests.slice(from);
      const label = `${recording.client}/${recording.run}`;
      if (!result.ok) {
        failed++;
        console.error(`[record] ${label}: FAILED, nothing written\n${JSON.stringify(result, null, 2)}`);
        continue;
      }
      await writeRun(recording, requests);
      console.error(`[record] ${label}: ${requests.length} requests (${result.durationMs} ms)`);
    }
    if (failed === 0) await writeReadme(all);
    // In the project's format, so `deno fmt --check` stays clean after a recording.
    await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", OUT], stdout: "null" }).output();
  } finally {
    await gateway?.stop();
    await fake.close();
    await metadata.close();
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
  return failed === 0 ? 0 : 1;
}

if (import.meta.main) {
  if (!loopbackOnly()) {
    // npm needs the network: install the SDKs first, then re-run inside a namespace with only loopback.
    await installSdks();
    const status = await new Deno.Command("unshare", {
      args: [
        "-n",
        "--",
        Deno.execPath(),
        "run",
        "-A",
        "--unstable-no-legacy-abort",
        new URL(import.meta.url).pathname,
        ...Deno.args,
      ],
      stdin: "null",
    }).spawn().status;
    Deno.exit(status.code);
  }
  Deno.exit(await main(Deno.args));
}
