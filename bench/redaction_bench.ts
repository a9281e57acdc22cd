/**
 * `redact-secrets`: precision and recall on the labelled corpora (tests/fixtures/secrets/, and the argument
 * corpus in policies/redact_secrets/testdata/), scanning speed, and the per-request cost along a 200-turn
 * agent conversation, with the scan cache (only new text meets the rules) and without it (everything
 * rescanned every turn), each with the argument rules on (the default) and off, in the same run.
 *
 * Run: `deno run -A bench/redaction_bench.ts` (prints a markdown table). A bench runner can import
 * `runRedactionBench()` for the same text.
 * @module
 */
import { compileRules, redactJsonValue, redactSecrets, scanText } from "../policies/redact_secrets/mod.ts";
import { hmacHasher } from "../policies/redact_secrets/placeholder.ts";
import { makeExchange, makeHookContext } from "../policies/testing.ts";
import type { RequestView } from "../policies/types.ts";
import { loadCorpus, scoreCorpus, wrap } from "../tests/fixtures/secrets/evaluate.ts";
import { loadArgumentCorpus, scoreArguments } from "../policies/redact_secrets/testdata/argument_corpus.ts";

const ROUNDS = 5;

function kb(chars: number): string {
  return chars < 0 ? "n/a" : `${(chars / 1024).toFixed(1)} K chars`;
}
const TURNS = 200;
const CONVERSATION_RUNS = 5;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function timeMs(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

/** MB/s of `scanText` over the corpus texts and of `redactJsonValue` over them as request bodies. */
async function throughput(args: boolean): Promise<{ scanMBs: number; walkMBs: number; megabytes: number }> {
  // The corpus repeated to about 1 MB per round, so one round is long enough to time (no cache is used).
  const corpus = (await loadCorpus()).map((s) => s.text);
  const texts = Array.from({ length: 12 }, () => corpus).flat();
  const bodies = texts.map(wrap);
  const bytes = texts.reduce((n, t) => n + new TextEncoder().encode(t).byteLength, 0);
  const rules = compileRules({ arguments: args });
  const hasher = hmacHasher("bench");
  const scan = () => texts.forEach((t) => scanText(t, rules));
  const walk = () => bodies.forEach((b) => redactJsonValue(b, rules, { hasher }));
  scan();
  walk();
  const scanMs = median(Array.from({ length: ROUNDS }, () => timeMs(scan)));
  const walkMs = median(Array.from({ length: ROUNDS }, () => timeMs(walk)));
  const mb = bytes / 1048576;
  return { scanMBs: mb / (scanMs / 1000), walkMBs: mb / (walkMs / 1000), megabytes: mb };
}

const LOREM = "the service reads its configuration, opens a pool of connections and retries on timeouts ";

/** A Claude Code-like conversation: a large system prompt and tools, then turns of tool use and results. */
function conversation(turns: number): { system: unknown; tools: unknown[]; turns: unknown[][] } {
  const system = [{ type: "text", text: ("You are a coding agent. " + LOREM).repeat(220) }];
  const tools = Array.from({ length: 30 }, (_, i) => ({
    name: `tool_${i}`,
    description: LOREM.repeat(12),
    input_schema: { type: "object", properties: { command: { type: "string", description: LOREM } } },
  }));
  const rounds: unknown[][] = [];
  for (let t = 0; t < turns; t++) {
    const file = Array.from({ length: 60 }, (_, l) => `  const value${l} = compute(${t}, ${l}); // ${LOREM}`)
      .join("\n");
    const secretLine = t === 5 || t === 120
      ? `\nDB_PASSWORD=Tr0ub4dor-${t}x9\nGITHUB_TOKEN=ghp_${"Zq8Rt2Lm5Nx7Pw3Ks9Vb4Hc6Jd1Fg0Ya2Eu7"}\n`
      : "";
    rounds.push([
      { role: "user", content: [{ type: "text", text: `step ${t}: look at src/module_${t}.ts and fix it` }] },
      {
        role: "assistant",
        content: [
          { type: "text", text: `Reading module ${t}. ${LOREM}` },
          { type: "tool_use", id: `toolu_${t}`, name: "Bash", input: { command: `cat src/module_${t}.ts` } },
        ],
      },
      {
        role: "user",
        content: [{ type: "tool_result", tool_use_id: `toolu_${t}`, content: file + secretLine }],
      },
      {
        role: "assistant",
        content: [{ type: "text", text: `Module ${t} computes values. ${LOREM.repeat(3)}` }],
      },
    ]);
  }
  return { system, tools, turns: rounds };
}

interface TurnCost {
  ms: number;
  /** Characters that met the rules in this request (the rest came from the scan cache). */
  scannedChars: number;
  bodyBytes: number;
  parseMs: number;
}

/** Sends turns 1..TURNS through one policy instance in order, as an agent would; cost of each request. */
function walkConversation(cacheMegabytes: number, args: boolean): TurnCost[] {
  const { system, tools, turns } = conversation(TURNS);
  const policy = redactSecrets.create(redactSecrets.options.parse({ cacheMegabytes, arguments: args }), {
    secretHasher: hmacHasher("bench"),
  });
  const { exchange } = makeExchange();
  const ctx = makeHookContext();
  const costs: TurnCost[] = [];
  for (let t = 1; t <= TURNS; t++) {
    const text = JSON.stringify({
      model: "claude-sonnet-4-5",
      system,
      tools,
      messages: turns.slice(0, t).flat(),
    });
    const body = new TextEncoder().encode(text);
    let json: unknown;
    const parseMs = timeMs(() => (json = JSON.parse(text)));
    const view: RequestView = { method: "POST", path: "/v1/messages", headers: {}, body, json };
    let verdict: unknown;
    const ms = timeMs(() => (verdict = policy.onRequest!(exchange, view, ctx)));
    const detail = (verdict as { detail?: { scannedChars?: number } }).detail;
    costs.push({ ms, bodyBytes: body.byteLength, parseMs, scannedChars: detail?.scannedChars ?? -1 });
  }
  return costs;
}

/** Median over repeated runs, per turn, then over a 5-turn window around the turn asked for. */
function around(runs: TurnCost[][], turn: number, pick: (c: TurnCost) => number): number {
  const perTurn = (t: number) => median(runs.map((r) => pick(r[t - 1])));
  const window = [-2, -1, 0, 1, 2].map((d) => Math.min(TURNS, Math.max(1, turn + d)));
  return median(window.map(perTurn));
}

/** Runs everything and returns the results as markdown. */
export async function runRedactionBench(): Promise<string> {
  const score = scoreCorpus(await loadCorpus());
  const argumentCases = await loadArgumentCorpus();
  const argumentScore = scoreArguments(argumentCases);
  const speedOff = await throughput(false);
  const speed = await throughput(true);
  // Alternate the four setups so load from elsewhere on the machine hits them alike.
  const cached: TurnCost[][] = [];
  const uncached: TurnCost[][] = [];
  const cachedOff: TurnCost[][] = [];
  const uncachedOff: TurnCost[][] = [];
  for (let run = 0; run < CONVERSATION_RUNS; run++) {
    cached.push(walkConversation(64, true));
    cachedOff.push(walkConversation(64, false));
    uncached.push(walkConversation(0, true));
    uncachedOff.push(walkConversation(0, false));
  }
  const f = (n: number, d = 2) => n.toFixed(d);
  const lines = [
    "| corpus | samples | secrets | precision | recall | scanText MB/s | redactJsonValue MB/s |",
    "|---|---|---|---|---|---|---|",
    `| tests/fixtures/secrets (${f(speed.megabytes / 12, 2)} MB; timed ×12) | ${
      (await loadCorpus()).length
    } | ${score.secrets} | ${f(score.precision, 3)} | ${f(score.recall, 3)} | ${f(speed.scanMBs, 0)} | ${
      f(speed.walkMBs, 0)
    } |`,
    `| same, argument rules off | | | ${
      f(scoreCorpus(await loadCorpus(), compileRules({ arguments: false })).precision, 3)
    } | ${f(scoreCorpus(await loadCorpus(), compileRules({ arguments: false })).recall, 3)} | ${
      f(speedOff.scanMBs, 0)
    } | ${f(speedOff.walkMBs, 0)} |`,
    `| policies/redact_secrets/testdata/argument_corpus.json (commands in 7 request positions) | ${argumentCases.length} | ${argumentScore.secrets} | ${
      f(argumentScore.precision, 3)
    } | ${f(argumentScore.recall, 3)} | | |`,
    "",
    `| ${TURNS}-turn conversation | body | JSON.parse (gateway, reference) | redact-secrets, scan cache on | text scanned, cache on | redact-secrets, no cache (full rescan) | text scanned, no cache |`,
    "|---|---|---|---|---|---|---|",
  ];
  const rows: [number, string][] = [[10, "turn 10"], [100, "turn 100"], [200, "turn 200"]];
  for (const [turn, label] of rows) {
    lines.push(
      `| ${label} | ${f(cached[0][turn - 1].bodyBytes / 1024, 0)} KB | ${
        f(around(cached, turn, (c) => c.parseMs))
      } ms | ${f(around(cached, turn, (c) => c.ms))} ms | ${kb(cached[0][turn - 1].scannedChars)} | ${
        f(around(uncached, turn, (c) => c.ms))
      } ms | ${kb(uncached[0][turn - 1].scannedChars)} |`,
    );
  }
  const growth = (runs: TurnCost[][]) => around(runs, 200, (c) => c.ms) / around(runs, 10, (c) => c.ms);
  lines.push(
    `| turn 200 / turn 10 | ${f(cached[0][199].bodyBytes / cached[0][9].bodyBytes, 1)}× | ${
      f(around(cached, 200, (c) => c.parseMs) / around(cached, 10, (c) => c.parseMs), 1)
    }× | ${f(growth(cached), 1)}× | ${f(cached[0][199].scannedChars / cached[0][9].scannedChars, 1)}× | ${
      f(growth(uncached), 1)
    }× | ${f(uncached[0][199].scannedChars / uncached[0][9].scannedChars, 1)}× |`,
    "",
    "| argument rules: CPU per request | cache on, rules off | cache on, rules on | added | no cache, rules off | no cache, rules on | added |",
    "|---|---|---|---|---|---|---|",
    ...rows.map(([turn, label]) => {
      const ms = (runs: TurnCost[][]) => around(runs, turn, (c) => c.ms);
      return `| ${label} | ${f(ms(cachedOff))} ms | ${f(ms(cached))} ms | ${
        f(ms(cached) - ms(cachedOff))
      } ms | ${f(ms(uncachedOff))} ms | ${f(ms(uncached))} ms | ${f(ms(uncached) - ms(uncachedOff))} ms |`;
    }),
    "",
    `Precision counts a finding as right only when it replaces exactly a labelled secret; recall counts a secret as caught when it was found and no longer appears in the sent body. Speeds: median of ${ROUNDS} rounds after a warm-up, MB of UTF-8 text. Conversation: each turn adds ~5 KB (a user step, a tool call, a 4 KB tool result, a reply) to a 30 KB system prompt and 30 tools; secrets at turns 5 and 120; per-request times are medians over ${CONVERSATION_RUNS} runs (cache on/off × argument rules on/off, alternating) and a 5-turn window. "Text scanned" is what met the rules in that request: with the cache it is only the new turn, however long the conversation; text already seen costs a map lookup (clean text) or a SHA-256 (text with findings, whose remembered findings are re-applied so every occurrence is still redacted). What still grows with the body is that lookup and the walk over the parsed body, the same order as the JSON.parse the gateway already does. Deno ${Deno.version.deno}, V8 ${Deno.version.v8}.`,
  );
  return lines.join("\n");
}

if (import.meta.main) {
  console.log(await runRedactionBench());
}
