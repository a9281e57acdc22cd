/**
 * The real-agent scenarios: how each CLI is invoked for one prompt through the gateway, with the quiet
 * flags and environment measured with the real clients (tests/fixtures/clients/README.md), and which request the fake provider must see.
 * @module
 */
import { dirname, join } from "node:path";

/** Where scripts/install_agents.sh puts the CLIs (override with RECONDO_AGENTS_DIR). */
export function agentsBinDir(): string {
  const root = Deno.env.get("RECONDO_AGENTS_DIR") ?? new URL("../../.cache/agents", import.meta.url).pathname;
  return join(root, "node_modules", ".bin");
}

/** The scenario names, in the order they run. */
export const SCENARIO_NAMES = [
  "claude",
  "claude-bedrock",
  "codex-ws",
  "codex-http",
  "gemini",
  "claude-vertex",
  "gemini-vertex",
  "codex-azure",
  "openrouter-sdk",
] as const;
/**
 * Scenarios run only when named: `claude-tool` lets Claude Code run the fake's scripted Bash call; the two
 * Bedrock application-profile runs need a config of their own (`bedrock_profile_agents_test.ts`).
 */
export const OPT_IN_SCENARIO_NAMES = [
  "claude-tool",
  "claude-bedrock-profile",
  "claude-bedrock-opus-profile",
] as const;
export type ScenarioName = typeof SCENARIO_NAMES[number] | typeof OPT_IN_SCENARIO_NAMES[number];

/** What a scenario needs from the harness to build its command line. */
export interface ScenarioContext {
  home: string;
  /**
   * `gateway`: through `HTTPS_PROXY` to the real host names. `direct`: the CLI's own base-URL setting
   * points at the fake (no gateway), to tell a fake-provider problem from a gateway problem.
   */
  mode: "gateway" | "direct";
  /** `http://127.0.0.1:PORT` of the gateway (gateway mode). */
  proxyUrl: string;
  /** The fake provider's origin (direct mode). */
  fakeUrl: string;
  /** `127.0.0.1:PORT` of the fake GCE metadata server (Google credentials for Vertex mode). */
  metadataHost: string;
  /** The CA the CLI must trust: the gateway's, or in direct mode the fake's. */
  caFile: string;
  prompt: string;
}

/** A request the fake must have received for the scenario to count as going through the gateway. */
export interface ExpectedRequest {
  method: string;
  /** Path and query as the provider sees it. */
  path: string | RegExp;
  /** The real provider host: the gateway keeps `Host`, a direct call to the fake would not. */
  host: string;
  /** For WebSocket scenarios: at least this many client frames. */
  minWsMessages?: number;
}

/** One CLI run. */
export interface Scenario {
  name: ScenarioName;
  /** A binary in {@link agentsBinDir}, or an absolute path (`node` for the SDK scenarios). */
  bin: string;
  args(ctx: ScenarioContext): string[];
  env(ctx: ScenarioContext): Record<string, string>;
  /** Files the CLI needs in its fresh HOME. */
  prepareHome?(home: string): Promise<void>;
  /** Requests the fake must see; in direct mode the host is not checked (it is the fake's own). */
  expect: ExpectedRequest[];
}

const PROXY_ENV = (ctx: ScenarioContext): Record<string, string> =>
  ctx.mode === "gateway" ? { HTTPS_PROXY: ctx.proxyUrl, https_proxy: ctx.proxyUrl } : {};

/**
 * Gemini CLI's fresh HOME: `~/.gemini/settings.json` with the given auth type, and no usage statistics,
 * telemetry or update checks.
 */
function geminiHome(selectedType: string): (home: string) => Promise<void> {
  return async (home) => {
    await Deno.mkdir(join(home, ".gemini"), { recursive: true });
    const settings = {
      security: { auth: { selectedType } },
      privacy: { usageStatisticsEnabled: false },
      telemetry: { enabled: false },
      general: { disableAutoUpdate: true, disableUpdateNag: true },
    };
    await Deno.writeTextFile(join(home, ".gemini", "settings.json"), JSON.stringify(settings));
  };
}

const CODEX_QUIET = [
  "-c",
  "analytics.enabled=false",
  "-c",
  'otel.metrics_exporter="none"',
  "-c",
  'otel.exporter="none"',
  "-c",
  'otel.trace_exporter="none"',
  "--disable",
  "plugins",
  "--disable",
  "api_key_model_discovery",
];

/** Codex's HTTP-only mode: a custom provider for the same host with WebSockets off. */
const codexHttpProvider = (ctx: ScenarioContext) => [
  "-c",
  "model_provider=oai",
  "-c",
  'model_providers.oai.name="OpenAI over HTTP"',
  "-c",
  `model_providers.oai.base_url="${ctx.mode === "gateway" ? "https://api.openai.com" : ctx.fakeUrl}/v1"`,
  "-c",
  'model_providers.oai.env_key="OPENAI_API_KEY"',
  "-c",
  'model_providers.oai.wire_api="responses"',
  "-c",
  "model_providers.oai.supports_websockets=false",
];

const codexExec = (extra: (ctx: ScenarioContext) => string[]) => (ctx: ScenarioContext) => [
  "exec",
  "--skip-git-repo-check",
  "--ephemeral",
  "-m",
  "gpt-5",
  ...CODEX_QUIET,
  ...extra(ctx),
  ctx.prompt,
];

/** Claude Code's quiet variables: no telemetry, error reports, updates or other non-model traffic. */
const CLAUDE_QUIET = {
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
  DISABLE_TELEMETRY: "1",
  DISABLE_ERROR_REPORTING: "1",
  DISABLE_AUTOUPDATER: "1",
};

/** Claude Code in print mode with one prompt. */
const CLAUDE: Scenario = {
  name: "claude",
  bin: "claude",
  args: (ctx) => ["-p", ctx.prompt, "--model", "claude-sonnet-4-5"],
  env: (ctx) => ({
    ...PROXY_ENV(ctx),
    NODE_EXTRA_CA_CERTS: ctx.caFile,
    ...(ctx.mode === "direct" ? { ANTHROPIC_BASE_URL: ctx.fakeUrl } : {}),
    ANTHROPIC_API_KEY: "sk-ant-api03-recondo-fake",
    ...CLAUDE_QUIET,
  }),
  expect: [{ method: "POST", path: /^\/v1\/messages(\?|$)/, host: "api.anthropic.com" }],
};

/** The Vertex AI project and region the Vertex scenarios name (the gateway must intercept the region's host). */
export const VERTEX_PROJECT = "recondo-test";
export const VERTEX_REGION = "us-east5";
/** Vertex AI's hosts: the regional one, and the global one (location `global`, express mode). */
export const VERTEX_HOSTS = [`${VERTEX_REGION}-aiplatform.googleapis.com`, "aiplatform.googleapis.com"];

/** Claude Code on Vertex AI without Google credentials (`CLAUDE_CODE_SKIP_VERTEX_AUTH`). */
const CLAUDE_VERTEX: Scenario = {
  name: "claude-vertex",
  bin: "claude",
  args: (ctx) => ["-p", ctx.prompt],
  env: (ctx) => ({
    ...PROXY_ENV(ctx),
    NODE_EXTRA_CA_CERTS: ctx.caFile,
    ...(ctx.mode === "direct" ? { ANTHROPIC_VERTEX_BASE_URL: `${ctx.fakeUrl}/v1` } : {}),
    ...CLAUDE_QUIET,
    CLAUDE_CODE_USE_VERTEX: "1",
    CLAUDE_CODE_SKIP_VERTEX_AUTH: "1",
    CLOUD_ML_REGION: VERTEX_REGION,
    ANTHROPIC_VERTEX_PROJECT_ID: VERTEX_PROJECT,
    ANTHROPIC_MODEL: "claude-sonnet-4-5@20250929",
  }),
  expect: [{
    method: "POST",
    path:
      `/v1/projects/${VERTEX_PROJECT}/locations/${VERTEX_REGION}/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict`,
    host: VERTEX_HOSTS[0],
  }],
};

/**
 * Gemini CLI on Vertex AI with a project and region and no API key: Google's credential library takes an
 * access token from the (fake) metadata server, as on a GCE VM, and sends it as `Authorization: Bearer`.
 */
const GEMINI_VERTEX: Scenario = {
  name: "gemini-vertex",
  bin: "gemini",
  args: (ctx) => ["-m", "gemini-2.5-flash", "-p", ctx.prompt],
  env: (ctx) => ({
    ...PROXY_ENV(ctx),
    NODE_EXTRA_CA_CERTS: ctx.caFile,
    ...(ctx.mode === "direct" ? { GOOGLE_VERTEX_BASE_URL: ctx.fakeUrl } : {}),
    GOOGLE_GENAI_USE_VERTEXAI: "true",
    GOOGLE_CLOUD_PROJECT: VERTEX_PROJECT,
    GOOGLE_CLOUD_LOCATION: VERTEX_REGION,
    GCE_METADATA_HOST: ctx.metadataHost,
    METADATA_SERVER_DETECTION: "assume-present",
    NO_PROXY: "127.0.0.1",
    no_proxy: "127.0.0.1",
    GEMINI_CLI_TRUST_WORKSPACE: "true",
    GEMINI_CLI_NO_RELAUNCH: "true",
  }),
  prepareHome: geminiHome("vertex-ai"),
  expect: [{
    method: "POST",
    path:
      `/v1beta1/projects/${VERTEX_PROJECT}/locations/${VERTEX_REGION}/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse`,
    host: VERTEX_HOSTS[0],
  }],
};
/** The Azure OpenAI resource and deployment the `codex-azure` scenario names. */
export const AZURE_HOST = "myres.openai.azure.com";
export const AZURE_DEPLOYMENT = "gpt5-prod";
export const OPENROUTER_HOST = "openrouter.ai";

/**
 * Codex's `config.toml` for Azure OpenAI, as an Azure customer writes it: a custom provider on the
 * resource's `/openai/v1` base URL with the key from `AZURE_OPENAI_API_KEY`, `api-version` as a query
 * parameter, Responses over HTTP. `-m` names the deployment.
 */
function codexAzureConfig(baseUrl: string): string {
  return [
    'model_provider = "azure"',
    "",
    "[model_providers.azure]",
    'name = "Azure OpenAI"',
    `base_url = "${baseUrl}"`,
    'env_key = "AZURE_OPENAI_API_KEY"',
    'query_params = { api-version = "preview" }',
    'wire_api = "responses"',
    "",
  ].join("\n");
}

const SDK_DIR = new URL("./sdk/", import.meta.url).pathname;

/** The Bedrock region and inference profile Claude Code's Bedrock mode is run with. */
export const BEDROCK_REGION = "us-east-1";
export const BEDROCK_MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";

/**
 * Claude Code in Bedrock mode (README, "Amazon Bedrock"): skip-auth sends no SigV4
 * signature, the region picks `bedrock-runtime.<region>.amazonaws.com`, the model is an inference profile.
 */
const CLAUDE_BEDROCK: Scenario = {
  name: "claude-bedrock",
  bin: "claude",
  args: (ctx) => ["-p", ctx.prompt],
  env: (ctx) => ({
    ...CLAUDE.env(ctx),
    ANTHROPIC_API_KEY: "",
    ANTHROPIC_BASE_URL: "",
    ...(ctx.mode === "direct" ? { ANTHROPIC_BEDROCK_BASE_URL: ctx.fakeUrl } : {}),
    CLAUDE_CODE_USE_BEDROCK: "1",
    CLAUDE_CODE_SKIP_BEDROCK_AUTH: "1",
    AWS_REGION: BEDROCK_REGION,
    ANTHROPIC_MODEL: BEDROCK_MODEL,
  }),
  expect: [{
    method: "POST",
    path: /^\/model\/us\.anthropic\.claude-sonnet-4-5-20250929-v1(?::|%3A)0\/invoke-with-response-stream$/,
    host: `bedrock-runtime.${BEDROCK_REGION}.amazonaws.com`,
  }],
};

/** Application inference profiles (`bedrock.profiles`) Claude Code is pointed at by `ANTHROPIC_MODEL`. */
export const BEDROCK_APP_PROFILES = {
  "claude-bedrock-profile":
    `arn:aws:bedrock:${BEDROCK_REGION}:123456789012:application-inference-profile/team-a`,
  "claude-bedrock-opus-profile":
    `arn:aws:bedrock:${BEDROCK_REGION}:123456789012:application-inference-profile/opus-team`,
} as const;

/** Claude Code in Bedrock mode on an application inference profile: the path names the profile's ARN. */
function claudeBedrockProfile(name: keyof typeof BEDROCK_APP_PROFILES): Scenario {
  const arn = BEDROCK_APP_PROFILES[name];
  // The AWS SDK encodes the ARN as one path segment; accept `:` and `/` raw or percent-encoded.
  const encoded = arn.replace(/[:/]/g, (c) => `(?:${c === ":" ? ":|%3A" : "/|%2F"})`).replaceAll(".", "\\.");
  return {
    ...CLAUDE_BEDROCK,
    name,
    env: (ctx) => ({ ...CLAUDE_BEDROCK.env(ctx), ANTHROPIC_MODEL: arn }),
    expect: [{
      method: "POST",
      path: new RegExp(`^/model/${encoded}/invoke-with-response-stream$`, "i"),
      host: `bedrock-runtime.${BEDROCK_REGION}.amazonaws.com`,
    }],
  };
}

/** All scenarios by name. */
export const SCENARIOS: Record<ScenarioName, Scenario> = {
  "claude-bedrock-profile": claudeBedrockProfile("claude-bedrock-profile"),
  "claude-bedrock-opus-profile": claudeBedrockProfile("claude-bedrock-opus-profile"),
  claude: CLAUDE,
  "claude-bedrock": CLAUDE_BEDROCK,
  "claude-tool": {
    ...CLAUDE,
    name: "claude-tool",
    // Bash is allowed up front: in print mode nobody could answer a permission prompt.
    args: (ctx) => [...CLAUDE.args(ctx), "--allowedTools", "Bash"],
  },
  "codex-ws": {
    name: "codex-ws",
    bin: "codex",
    args: codexExec((ctx) => ctx.mode === "direct" ? ["-c", `openai_base_url="${ctx.fakeUrl}/v1"`] : []),
    env: (ctx) => ({
      ...PROXY_ENV(ctx),
      CODEX_CA_CERTIFICATE: ctx.caFile,
      CODEX_API_KEY: "sk-proj-recondo-fake",
    }),
    // The prewarm (generate:false) and the turn arrive as two frames on one socket.
    expect: [{ method: "GET", path: "/v1/responses", host: "api.openai.com", minWsMessages: 2 }],
  },
  "codex-http": {
    name: "codex-http",
    bin: "codex",
    args: codexExec(codexHttpProvider),
    env: (ctx) => ({
      ...PROXY_ENV(ctx),
      CODEX_CA_CERTIFICATE: ctx.caFile,
      OPENAI_API_KEY: "sk-proj-recondo-fake",
    }),
    expect: [{ method: "POST", path: "/v1/responses", host: "api.openai.com" }],
  },
  "codex-azure": {
    name: "codex-azure",
    bin: "codex",
    args: (ctx) => [
      "exec",
      "--skip-git-repo-check",
      "--ephemeral",
      "-m",
      AZURE_DEPLOYMENT,
      ...CODEX_QUIET,
      // Direct mode: the same provider, pointed at the fake.
      ...(ctx.mode === "direct" ? ["-c", `model_providers.azure.base_url="${ctx.fakeUrl}/openai/v1"`] : []),
      ctx.prompt,
    ],
    env: (ctx) => ({
      ...PROXY_ENV(ctx),
      CODEX_CA_CERTIFICATE: ctx.caFile,
      AZURE_OPENAI_API_KEY: "azure-recondo-fake-key",
    }),
    async prepareHome(home) {
      await Deno.mkdir(join(home, ".codex"), { recursive: true });
      await Deno.writeTextFile(
        join(home, ".codex", "config.toml"),
        codexAzureConfig(`https://${AZURE_HOST}/openai/v1`),
      );
    },
    expect: [{ method: "POST", path: "/openai/v1/responses?api-version=preview", host: AZURE_HOST }],
  },
  "openrouter-sdk": {
    name: "openrouter-sdk",
    bin: "/usr/bin/node",
    args: (ctx) => [
      "--require",
      join(SDK_DIR, "proxy_preload.cjs"),
      join(SDK_DIR, "openrouter_openai_sdk.cjs"),
      ctx.prompt,
    ],
    env: (ctx) => ({
      ...PROXY_ENV(ctx),
      NODE_EXTRA_CA_CERTS: ctx.caFile,
      // The SDK and undici come from the agents' install (scripts/install_agents.sh).
      NODE_PATH: dirname(agentsBinDir()),
      OPENROUTER_API_KEY: "sk-or-v1-recondo-fake",
      ...(ctx.mode === "direct" ? { OPENROUTER_BASE_URL: `${ctx.fakeUrl}/api/v1` } : {}),
    }),
    expect: [
      { method: "POST", path: "/api/v1/chat/completions", host: OPENROUTER_HOST },
      { method: "POST", path: "/api/v1/responses", host: OPENROUTER_HOST },
    ],
  },
  gemini: {
    name: "gemini",
    bin: "gemini",
    args: (ctx) => ["-m", "gemini-2.5-flash", "-p", ctx.prompt],
    env: (ctx) => ({
      ...PROXY_ENV(ctx),
      NODE_EXTRA_CA_CERTS: ctx.caFile,
      ...(ctx.mode === "direct" ? { GOOGLE_GEMINI_BASE_URL: ctx.fakeUrl } : {}),
      GEMINI_API_KEY: "AIza-recondo-fake",
      GEMINI_CLI_TRUST_WORKSPACE: "true",
      GEMINI_CLI_NO_RELAUNCH: "true",
    }),
    // The auth type is needed in direct mode only: GOOGLE_GEMINI_BASE_URL alone switches the CLI to a
    // "gateway" auth type that then fails with "Invalid auth method selected" (exit 41).
    prepareHome: geminiHome("gemini-api-key"),
    expect: [{
      method: "POST",
      path: "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
      host: "generativelanguage.googleapis.com",
    }],
  },
  "claude-vertex": CLAUDE_VERTEX,
  "gemini-vertex": GEMINI_VERTEX,
};

/** Fails loudly, with the install command, unless every CLI is installed (never a silent skip). */
export function requireAgents(): void {
  if (!agentsInstalled()) {
    throw new Error(
      `the agent CLIs (claude, codex, gemini) or the openai SDK are missing from ${agentsBinDir()}: run bash scripts/install_agents.sh (\`deno task test\` runs it before the tests)`,
    );
  }
}

/** Whether every CLI binary is installed (scripts/install_agents.sh). */
export function agentsInstalled(): boolean {
  const bins = ["claude", "codex", "gemini"].map((bin) => join(agentsBinDir(), bin));
  // The OpenRouter scenario's SDK packages.
  const sdk = ["openai", "undici"].map((name) => join(dirname(agentsBinDir()), name, "package.json"));
  return [...bins, ...sdk].every((path) => {
    try {
      return Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  });
}
