import assert from "node:assert/strict";
import { AWS_FIPS_REGIONS, AWS_REGIONS, GCP_REGIONS } from "./provider_regions.ts";
import {
  compileHostMatcher,
  hostPatternProblem,
  permittedNames,
  permittedNamesFor,
} from "./host_patterns.ts";
import { configSchema, DEFAULT_INTERCEPT_HOSTS } from "./schema.ts";

Deno.test("a wildcard matches one or more label characters, never a dot", () => {
  const matches = compileHostMatcher(["bedrock-runtime.*.amazonaws.com", "*-aiplatform.googleapis.com"]);
  assert.equal(matches("bedrock-runtime.us-east-1.amazonaws.com"), true);
  assert.equal(matches("BEDROCK-RUNTIME.eu-west-3.amazonaws.com."), true);
  assert.equal(matches("bedrock-runtime..amazonaws.com"), false);
  assert.equal(matches("bedrock-runtime.a.b.amazonaws.com"), false);
  assert.equal(matches("bedrock.us-east-1.amazonaws.com"), false);
  assert.equal(matches("s3.amazonaws.com"), false);
  assert.equal(matches("us-east5-aiplatform.googleapis.com"), true);
  assert.equal(matches("-aiplatform.googleapis.com"), false);
  assert.equal(matches("evil.us-east5-aiplatform.googleapis.com"), false);
});

Deno.test("exact entries and patterns mix in one matcher", () => {
  const matches = compileHostMatcher(["api.anthropic.com", "*.openai.azure.com"]);
  assert.equal(matches("api.anthropic.com"), true);
  assert.equal(matches("eu.api.anthropic.com"), false);
  assert.equal(matches("contoso.openai.azure.com"), true);
  assert.equal(matches("openai.azure.com"), false);
  assert.equal(matches("a.b.openai.azure.com"), false);
});

Deno.test("the default intercept list holds all seven enterprise patterns and validates", () => {
  for (
    const entry of [
      "bedrock-runtime.*.amazonaws.com",
      "bedrock-runtime-fips.*.amazonaws.com",
      "*-aiplatform.googleapis.com",
      "aiplatform.googleapis.com",
      "*.openai.azure.com",
      "*.cognitiveservices.azure.com",
      "openrouter.ai",
    ]
  ) assert.ok(DEFAULT_INTERCEPT_HOSTS.includes(entry), entry);
  for (const entry of DEFAULT_INTERCEPT_HOSTS) assert.equal(hostPatternProblem(entry), null, entry);
  const matches = compileHostMatcher(DEFAULT_INTERCEPT_HOSTS);
  assert.ok(matches("bedrock-runtime-fips.us-gov-west-1.amazonaws.com"));
  assert.equal(
    matches("bedrock-fips.us-east-1.amazonaws.com"),
    false,
    "the control plane is no model endpoint",
  );
});

Deno.test("the CA permits each region's exact name for mid-name wildcards, the suffix for a leading one", () => {
  const bedrock = permittedNamesFor("bedrock-runtime.*.amazonaws.com");
  assert.equal(bedrock.length, AWS_REGIONS.length);
  assert.ok(bedrock.includes("bedrock-runtime.us-east-1.amazonaws.com"));
  assert.ok(bedrock.every((name) => name.startsWith("bedrock-runtime.") && !name.includes("*")));
  const fips = permittedNamesFor("bedrock-runtime-fips.*.amazonaws.com");
  assert.equal(fips.length, AWS_FIPS_REGIONS.length);
  assert.ok(fips.includes("bedrock-runtime-fips.us-gov-west-1.amazonaws.com"));
  const vertex = permittedNamesFor("*-aiplatform.googleapis.com");
  assert.equal(vertex.length, GCP_REGIONS.length);
  assert.ok(vertex.includes("us-east5-aiplatform.googleapis.com"));
  assert.deepEqual(permittedNamesFor("*.openai.azure.com"), ["openai.azure.com"]);
  assert.deepEqual(permittedNamesFor("llm-*.corp.example.com"), ["corp.example.com"]);
  assert.deepEqual(permittedNamesFor("API.Anthropic.com."), ["api.anthropic.com"]);
  const all = permittedNames(DEFAULT_INTERCEPT_HOSTS);
  assert.equal(all.includes("amazonaws.com"), false);
  assert.equal(all.includes("googleapis.com"), false);
  assert.equal(new Set(all).size, all.length);
});

Deno.test("config rejects patterns that would permit a whole top-level domain, and bad characters", () => {
  assert.match(hostPatternProblem("*.com") ?? "", /at least two labels after its last wildcard/);
  assert.match(hostPatternProblem("api.*.com") ?? "", /at least two labels/);
  assert.match(hostPatternProblem("api_x.example.com") ?? "", /must be a host name/);
  assert.match(hostPatternProblem("localhost") ?? "", /at least two labels/);
  assert.equal(hostPatternProblem("*.llm.example.com"), null);
  const bad = configSchema.safeParse({ intercept: ["*.com"] });
  assert.equal(bad.success, false);
  assert.match(JSON.stringify(bad.error?.issues), /top-level domain/);
  assert.deepEqual(configSchema.parse({ intercept: ["*.llm.example.com"] }).intercept, ["*.llm.example.com"]);
});
