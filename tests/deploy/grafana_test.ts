/**
 * The Grafana dashboard (`deploy/grafana/recondo.json`) must only chart what `/metrics` really exposes: a
 * real gateway (`main.ts serve`) relays an Anthropic turn, and every metric name in every PromQL
 * expression of the dashboard must be among the names its `/metrics` lists (histograms as `_bucket`,
 * `_sum`, `_count`), and every label a matcher or a `by (…)` names must be on those series.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startGatewayProcess } from "../agents/gateway_process.ts";
import { startUpstream } from "../support/gateway.ts";

const DASHBOARD = new URL("../../deploy/grafana/recondo.json", import.meta.url);

/** PromQL words that look like names but are none. */
const KEYWORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "bool",
  "and",
  "or",
  "unless",
  "offset",
]);

/** The metric names a PromQL expression reads. */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // label values
    .replace(/\{[^}]*\}/g, "") // label matchers
    .replace(/\[[^\]]*\]/g, "") // ranges
    .replace(/\b\d[\w.]*/g, "") // numbers and durations (`0.95`, `offset 5m`)
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ""); // label lists
  const names: string[] = [];
  for (const m of bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const rest = bare.slice(m.index + m[0].length).trimStart();
    if (rest.startsWith("(") || KEYWORDS.has(m[0])) continue; // a function or an aggregation
    names.push(m[0]);
  }
  return names;
}

/**
 * The labels an expression relies on: those its matchers name on a metric (`m{kind="block"}`) and those
 * its `by (…)` clauses group by, which must exist on one of the expression's metrics.
 */
export function labelUses(expr: string): { matched: [string, string][]; grouped: string[] } {
  const matched: [string, string][] = [];
  for (const m of expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}/g)) {
    for (const l of m[2].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) matched.push([m[1], l[1]]);
  }
  const grouped = [...expr.matchAll(/\bby\s*\(([^)]*)\)/g)]
    .flatMap((m) => m[1].split(",").map((l) => l.trim()).filter(Boolean));
  return { matched, grouped };
}

/** The label names each exposed series carries, by the name it is queried as. */
function exposedLabels(text: string): Map<string, Set<string>> {
  const labels = new Map<string, Set<string>>();
  for (const m of text.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\} /gm)) {
    const set = labels.get(m[1]) ?? new Set<string>();
    for (const l of m[2].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) set.add(l[1]);
    labels.set(m[1], set);
  }
  return labels;
}

/** Every name a Prometheus text exposition offers for querying. */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m;
    if (type === "histogram") { for (const s of ["_bucket", "_sum", "_count"]) names.add(name + s); }
    else if (type === "summary") { for (const s of ["", "_sum", "_count"]) names.add(name + s); }
    else names.add(name);
  }
  return names;
}

interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
  panels?: Panel[];
}

Deno.test("metricNames finds the metrics of an expression and nothing else", () => {
  assert.deepEqual(
    metricNames(
      'histogram_quantile(0.95, sum by (le, provider) (rate(a_seconds_bucket{kind="x"}[5m]))) / on (job) b_total offset 5m',
    ),
    ["a_seconds_bucket", "b_total"],
  );
});

Deno.test("labelUses finds matcher labels per metric and grouping labels", () => {
  assert.deepEqual(
    labelUses('sum by (policy, kind) (rate(d_total{kind=~"error|timeout", enforced="true"}[5m])) / b_total'),
    { matched: [["d_total", "kind"], ["d_total", "enforced"]], grouped: ["policy", "kind"] },
  );
});

Deno.test({
  name: "every metric and label the Grafana dashboard charts is one a real gateway's /metrics exposes",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dashboard = JSON.parse(await Deno.readTextFile(DASHBOARD)) as { panels: Panel[] };
    const panels = dashboard.panels.flatMap((p) => [p, ...p.panels ?? []]);
    const rows = panels.filter((p) => p.type === "row").map((p) => p.title);
    assert.deepEqual(rows, ["Traffic", "Latency", "Blocks", "Spend", "Capture"]);
    const used = new Map<string, string>();
    for (const p of panels) {
      for (const t of p.targets ?? []) for (const name of metricNames(t.expr)) used.set(name, p.title);
    }

    await using upstream = startUpstream(() =>
      Response.json({
        id: "msg_grafana",
        type: "message",
        role: "assistant",
        model: "claude-sonnet-4-5",
        content: [{ type: "text", text: "OK" }],
        stop_reason: "end_turn",
        usage: { input_tokens: 1200, output_tokens: 300 },
      })
    );
    // A policy, so decisions are counted, and a config file to edit, so a reload is.
    const dir = await Deno.makeTempDir({ prefix: "recondo-grafana-" });
    const configFile = join(dir, "recondo.json");
    const config = JSON.stringify({ policies: [{ use: "block-list", options: { teams: ["nobody"] } }] });
    await Deno.writeTextFile(configFile, config);
    const gateway = await startGatewayProcess({
      overrides: { "api.anthropic.com": upstream.origin },
      configFile,
    });
    try {
      const caPem = await Deno.readTextFile(join(gateway.dataDir, "ca", "ca.crt"));
      using client = Deno.createHttpClient({ caCerts: [caPem], proxy: { url: gateway.proxyUrl } });
      const res = await fetch("https://api.anthropic.com/v1/messages", {
        client,
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": "sk-ant-test" },
        body: JSON.stringify({
          model: "claude-sonnet-4-5",
          max_tokens: 10,
          messages: [{ role: "user", content: "hi" }],
        }),
      });
      assert.equal(res.status, 200);
      await res.body?.cancel();
      await Deno.writeTextFile(configFile, config.replace("nobody", "nobody-else"));

      // Once capture persisted the turn, its price shows in the spend counter the Spend row charts.
      let metrics = "";
      const deadline = Date.now() + 20_000;
      while (
        !/^recondo_spend_usd_total\{team=""\} [1-9]|^recondo_spend_usd_total\{team=""\} 0\.\d*[1-9]/m.test(
          metrics,
        ) || !/^recondo_config_reloads_total\{result="applied"\} [1-9]/m.test(metrics)
      ) {
        assert.ok(Date.now() < deadline, `spend never showed on /metrics:\n${metrics}`);
        await new Promise((r) => setTimeout(r, 100));
        metrics = await (await fetch(`http://127.0.0.1:${gateway.port}/metrics`)).text();
      }
      const exposed = exposedNames(metrics);
      assert.ok(used.size >= 15, `the dashboard reads only ${[...used.keys()]}`);
      const missing = [...used].filter(([name]) => !exposed.has(name)).map(([n, panel]) => `${n} (${panel})`);
      assert.deepEqual(missing, [], `charted but not on /metrics; /metrics has ${[...exposed].join(", ")}`);

      // Labels too: a renamed label would leave a panel empty while every name still matched.
      const labels = exposedLabels(metrics);
      const wrong: string[] = [];
      for (const p of panels) {
        for (const t of p.targets ?? []) {
          const { matched, grouped } = labelUses(t.expr);
          for (const [metric, label] of matched) {
            const has = labels.get(metric);
            if (!has?.has(label)) {
              wrong.push(`${metric}{${label}} in "${p.title}" (/metrics has ${[...has ?? []]})`);
            }
          }
          const onAny = metricNames(t.expr).flatMap((m) => [...labels.get(m) ?? []]);
          for (const label of grouped) {
            if (!onAny.includes(label)) wrong.push(`by (${label}) in "${p.title}"`);
          }
        }
      }
      assert.deepEqual(wrong, [], metrics);
    } finally {
      await gateway.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
