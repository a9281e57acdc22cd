/**
 * Precision and recall over the labelled corpus (tests/fixtures/secrets/corpus.json) and over the real
 * clients' recorded requests (tests/fixtures/clients/). Thresholds, and why:
 * - No finding at all on hard negatives or on real client traffic (precision 1.0 there): a false redaction
 *   silently changes what the model reads (a lockfile hash, a commit id), which is worse than a miss
 *   for a policy that is on for everyone.
 * - Overall precision ≥ 0.98 with exact spans (a finding counts only when it replaces exactly a labelled
 *   secret), recall ≥ 0.95 overall, and ≥ 0.75 in every category so a regression in one provider's format
 *   cannot hide in the total.
 */
import assert from "node:assert/strict";
import { loadCorpus, scoreCorpus } from "../../tests/fixtures/secrets/evaluate.ts";
import { compileRules } from "./scanner.ts";
import { hmacHasher } from "./placeholder.ts";
import { redactJsonValue } from "./json_walker.ts";
import { CLIENT_FIXTURES, clientExchangeFiles } from "../../providers/_testing.ts";

Deno.test("the labelled corpus is redacted with precision ≥ 0.98 and recall ≥ 0.95", async () => {
  const samples = await loadCorpus();
  assert.ok(samples.filter((s) => s.kind === "positive").length >= 70, "the corpus has its positives");
  assert.ok(samples.filter((s) => s.kind === "negative").length >= 25, "the corpus has its hard negatives");
  const score = scoreCorpus(samples);
  assert.ok(score.precision >= 0.98, `precision ${score.precision} (false alarms: ${score.falseAlarms})`);
  assert.ok(score.recall >= 0.95, `recall ${score.recall} (missed in: ${score.misses})`);
  for (const [category, c] of Object.entries(score.byCategory)) {
    if (c.secrets > 0) {
      assert.ok(c.recalled / c.secrets >= 0.75, `${category} recall ${c.recalled}/${c.secrets}`);
    }
  }
});

Deno.test("hard negatives (hashes, UUIDs, base64, lockfiles, minified code) come through unchanged", async () => {
  const negatives = (await loadCorpus()).filter((s) => s.kind === "negative");
  const score = scoreCorpus(negatives);
  assert.equal(score.falsePositives, 0, `false alarms in ${score.falseAlarms}`);
});

Deno.test("the real clients' recorded requests (Claude Code, Codex, Gemini CLI, SDKs) come through unchanged", async () => {
  const rules = compileRules();
  let bodies = 0;
  for (const file of clientExchangeFiles(/^\d{3}-.*\.json$|^ws-messages\.jsonl$/)) {
    const url = new URL(file, CLIENT_FIXTURES);
    const found: unknown[] = [];
    if (file.endsWith(".json")) found.push(JSON.parse(await Deno.readTextFile(url)).body);
    if (file.endsWith(".jsonl")) {
      for (const line of (await Deno.readTextFile(url)).split("\n").filter(Boolean)) {
        found.push(JSON.parse(line).msg);
      }
    }
    for (const body of found.filter((b) => b !== undefined && b !== null)) {
      bodies++;
      const result = redactJsonValue(body, rules, { hasher: hmacHasher("k") });
      assert.deepEqual(result.findings, [], file);
      assert.equal(result.changed, false, file);
    }
  }
  assert.ok(bodies >= 20, `read ${bodies} recorded bodies`);
});
