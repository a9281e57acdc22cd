/**
 * deploy/k8s rendered as a cluster would receive it (`kubectl kustomize deploy/k8s`, offline), then every
 * object validated against the Kubernetes schemas (kubernetes-models) and type-checked against their
 * interfaces (unknown fields fail), and checked against the gateway: probe paths it serves, variables it
 * reads, a termination grace above its drain, the journal on a claim, keys at 0400. The same checks are
 * run on broken copies, so a check that stopped biting would fail here too.
 */
import assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";
import { gatewaySources, schemaProblems, semanticProblems, typeProblems } from "./k8s_manifest_checks.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

// deno-lint-ignore no-explicit-any
type Obj = any;

async function render(): Promise<Obj[]> {
  const out = await new Deno.Command("kubectl", { args: ["kustomize", "deploy/k8s"], cwd: ROOT }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.ok(out.success, `kubectl kustomize failed: ${new TextDecoder().decode(out.stderr)}`);
  return parseAllDocuments(text).map((d) => d.toJS()).filter((o) => o);
}

const copy = (o: Obj[]): Obj[] => structuredClone(o);
const sts = (objects: Obj[]) => objects.find((o) => o.kind === "StatefulSet");

Deno.test("the k8s base renders objects that pass the Kubernetes schemas, the type check and the gateway's checks", async () => {
  const objects = await render();
  assert.deepEqual(
    objects.map((o) => o.kind).sort(),
    [
      "ConfigMap",
      "HorizontalPodAutoscaler",
      "NetworkPolicy",
      "PodDisruptionBudget",
      "Service",
      "Service",
      "StatefulSet",
    ],
  );
  assert.deepEqual(schemaProblems(objects), []);
  assert.deepEqual(await typeProblems(objects), []);
  assert.deepEqual(semanticProblems(objects, await gatewaySources()), []);
});

Deno.test("the k8s checks fail on broken manifests", async () => {
  const objects = await render();
  const sources = await gatewaySources();

  const badPort = copy(objects);
  sts(badPort).spec.template.spec.containers[0].ports[0].containerPort = "8443";
  assert.match(schemaProblems(badPort).join("\n"), /containerPort must be integer/);

  const typo = copy(objects);
  const probe = sts(typo).spec.template.spec.containers[0].readinessProbe;
  probe.httpGet.patth = probe.httpGet.path;
  assert.match((await typeProblems(typo)).join("\n"), /patth\W+ does not exist in type 'IHTTPGetAction'/);

  const semantic = copy(objects);
  const pod = sts(semantic).spec.template.spec;
  pod.terminationGracePeriodSeconds = 60;
  pod.containers[0].readinessProbe.httpGet.path = "/ready";
  pod.containers[0].env.push({ name: "RECONDO_DB_URI", value: "postgres://x" });
  pod.containers[0].securityContext.readOnlyRootFilesystem = false;
  const netpol = semantic.find((o) => o.kind === "NetworkPolicy");
  netpol.spec.egress[0].to[0].podSelector.matchLabels["app.kubernetes.io/name"] = "recondo";
  const found = semanticProblems(semantic, sources).join("\n");
  assert.match(found, /terminationGracePeriodSeconds 60 < shutdownGraceSeconds 300/);
  assert.match(found, /readinessProbe must GET \/readyz/);
  assert.match(found, /env RECONDO_DB_URI is not read by the gateway/);
  assert.match(found, /recondo: readOnlyRootFilesystem is not true/);
  assert.match(found, /DNS egress selects/);

  const badConfig = copy(objects);
  const cm = badConfig.find((o) => o.kind === "ConfigMap");
  cm.data["recondo.json"] = JSON.stringify({ shutdownGraceSeconds: -1 });
  assert.match(
    semanticProblems(badConfig, sources).join("\n"),
    /recondo\.json in the ConfigMap: .*shutdownGraceSeconds/,
  );
});
