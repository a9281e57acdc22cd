/**
 * Checks for the rendered Kubernetes manifests (deploy/k8s), shared by tests/deploy/k8s_test.ts: schema
 * validation with kubernetes-models (`.validate()`), a type check of every object against the same
 * models' TypeScript interfaces (which, unlike the JSON schemas, reject unknown fields such as a misspelt
 * `protocl`), and checks against the gateway itself: probe paths it serves, environment variables it
 * reads, the drain grace, ports, selectors and the key-file mounts. Each returns the problems it found.
 * @module
 */
import { join } from "node:path";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Service } from "kubernetes-models/v1/Service";
import { StatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { parseConfig } from "../../config/load.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

// deno-lint-ignore no-explicit-any
type Obj = any;

/** kind → the model class and the module/interface used for the type check. */
const MODELS: Record<
  string,
  { model: { new (data: Obj): { validate(): void } }; module: string; type: string }
> = {
  "v1/ConfigMap": { model: ConfigMap, module: "kubernetes-models/v1/ConfigMap", type: "IConfigMap" },
  "v1/Service": { model: Service, module: "kubernetes-models/v1/Service", type: "IService" },
  "apps/v1/StatefulSet": {
    model: StatefulSet,
    module: "kubernetes-models/apps/v1/StatefulSet",
    type: "IStatefulSet",
  },
  "policy/v1/PodDisruptionBudget": {
    model: PodDisruptionBudget,
    module: "kubernetes-models/policy/v1/PodDisruptionBudget",
    type: "IPodDisruptionBudget",
  },
  "autoscaling/v2/HorizontalPodAutoscaler": {
    model: HorizontalPodAutoscaler,
    module: "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler",
    type: "IHorizontalPodAutoscaler",
  },
  "networking.k8s.io/v1/NetworkPolicy": {
    model: NetworkPolicy,
    module: "kubernetes-models/networking.k8s.io/v1/NetworkPolicy",
    type: "INetworkPolicy",
  },
};

function key(o: Obj): string {
  return `${o.apiVersion}/${o.kind}`;
}

/** Validates each object with its kubernetes-models class. */
export function schemaProblems(objects: Obj[]): string[] {
  const problems: string[] = [];
  for (const o of objects) {
    const entry = MODELS[key(o)];
    if (!entry) {
      problems.push(`${key(o)} ${o.metadata?.name}: no schema known to this test`);
      continue;
    }
    try {
      new entry.model(o).validate();
    } catch (error) {
      problems.push(`${key(o)} ${o.metadata?.name}: ${(error as Error).message}`);
    }
  }
  return problems;
}

/** Type-checks every object as an object literal of its model's interface: unknown fields fail. */
export async function typeProblems(objects: Obj[]): Promise<string[]> {
  const dir = await Deno.makeTempDir({ prefix: "recondo-k8s-types-" });
  const file = join(dir, "manifests.ts");
  const lines: string[] = [];
  objects.forEach((o, i) => {
    const entry = MODELS[key(o)];
    if (!entry) return;
    lines.push(`import type { ${entry.type} as T${i} } from "${entry.module}";`);
    lines.push(`export const o${i}: T${i} = ${JSON.stringify(o, null, 2)};`);
  });
  await Deno.writeTextFile(file, lines.join("\n") + "\n");
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--quiet", "--config", join(ROOT, "deno.json"), file],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
    }).output();
    if (out.success) return [];
    const text = new TextDecoder().decode(out.stderr);
    return [...text.matchAll(/(TS\d+ \[ERROR\]: [^\n]+)/g)].map((m) => m[1]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The non-test TypeScript sources of the gateway, concatenated (what "the code reads" means). */
export async function gatewaySources(): Promise<string> {
  const parts: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const path = join(dir, e.name);
      if (e.isDirectory) {
        if (!["node_modules", "tests", "bench", ".cache", ".git", "static", "deploy"].includes(e.name)) {
          await walk(path);
        }
      } else if (/\.tsx?$/.test(e.name) && !/_test\.tsx?$|^test_/.test(e.name)) {
        parts.push(await Deno.readTextFile(path));
      }
    }
  };
  await walk(ROOT);
  return parts.join("\n");
}

/** Variables the AWS SDK's default chain reads itself (the gateway passes no such names around). */
const AWS_SDK_ENV = new Set(["AWS_REGION", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]);

/**
 * Contract names from the Fleet issue that other branches implement (key files from the deployment, the
 * gateway id, the readiness endpoint). Accepted while the code on this branch lacks them; once merged the
 * source has them and this list can go.
 */
export const PENDING_CONTRACT = new Set<string>([]);

function selects(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** Checks the manifests against the gateway: what it serves, reads, and how it drains. */
export function semanticProblems(objects: Obj[], sources: string): string[] {
  const problems: string[] = [];
  const find = (kind: string, name?: string) =>
    objects.filter((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
  const [sts] = find("StatefulSet");
  const [config] = find("ConfigMap").filter((c) => c.data?.["recondo.json"]);
  if (!sts) return ["no StatefulSet rendered"];
  if (!config) return ["no ConfigMap with recondo.json rendered"];
  for (const kind of ["Service", "PodDisruptionBudget", "HorizontalPodAutoscaler", "NetworkPolicy"]) {
    if (find(kind).length === 0) problems.push(`no ${kind} rendered`);
  }
  const served = (path: string) => sources.includes(`"${path}"`) || PENDING_CONTRACT.has(path);
  const read = (name: string) =>
    sources.includes(name) || AWS_SDK_ENV.has(name) || PENDING_CONTRACT.has(name);

  let recondoJson: ReturnType<typeof parseConfig> | null = null;
  try {
    recondoJson = parseConfig(JSON.parse(config.data["recondo.json"]), "ConfigMap recondo.json");
  } catch (error) {
    problems.push(`recondo.json in the ConfigMap: ${(error as Error).message}`);
  }
  const pod = sts.spec.template.spec;
  const labels = sts.spec.template.metadata?.labels ?? {};
  if (!selects(sts.spec.selector?.matchLabels, labels)) problems.push("StatefulSet selector misses its pods");
  const [gateway] = pod.containers;
  const proxyPort = gateway.ports?.find((p: Obj) => p.name === "proxy");
  if (proxyPort?.containerPort !== 8443) problems.push("container port `proxy` is not 8443");

  for (const [probe, path] of [["livenessProbe", "/healthz"], ["readinessProbe", "/readyz"]]) {
    const get = gateway[probe]?.httpGet;
    if (get?.path !== path) problems.push(`${probe} must GET ${path}, has ${get?.path}`);
    if (get && !served(get.path)) problems.push(`${probe} path ${get.path} is not served by the gateway`);
    if (get && get.port !== "proxy" && get.port !== 8443) problems.push(`${probe} is not on the proxy port`);
  }
  const startup = gateway.startupProbe?.httpGet;
  if (startup && !served(startup.path)) problems.push(`startupProbe path ${startup.path} is not served`);

  const env: Obj[] = [...(pod.initContainers ?? []), ...pod.containers].flatMap((c: Obj) => c.env ?? []);
  for (const e of env) if (!read(e.name)) problems.push(`env ${e.name} is not read by the gateway`);
  const envValue = (name: string) => gateway.env?.find((e: Obj) => e.name === name)?.value;
  if (envValue("RECONDO_LISTEN")?.split(":").pop() !== "8443") problems.push("RECONDO_LISTEN is not on 8443");

  if (recondoJson) {
    const preStop = Number(gateway.lifecycle?.preStop?.exec?.command?.[1] ?? 0);
    const grace = pod.terminationGracePeriodSeconds ?? 30;
    if (grace < recondoJson.shutdownGraceSeconds + preStop + 10) {
      problems.push(
        `terminationGracePeriodSeconds ${grace} < shutdownGraceSeconds ${recondoJson.shutdownGraceSeconds}` +
          ` + preStop ${preStop} s + 10 s margin`,
      );
    }
    if (recondoJson.listen.split(":").pop() !== "8443") problems.push("recondo.json listen is not on 8443");
  }

  // Security: the image's user, no root, no writable root filesystem.
  const sc = pod.securityContext ?? {};
  if (sc.runAsNonRoot !== true || sc.runAsUser !== 10001 || sc.fsGroup !== 10001) {
    problems.push("pod must run as 10001 (the image's user) with runAsNonRoot and fsGroup 10001");
  }
  for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
    const csc = c.securityContext ?? {};
    if (csc.readOnlyRootFilesystem !== true) problems.push(`${c.name}: readOnlyRootFilesystem is not true`);
    if (csc.allowPrivilegeEscalation !== false) {
      problems.push(`${c.name}: allowPrivilegeEscalation not false`);
    }
  }

  // Volumes: every mount exists; the data dir is a claim template; key files sit under a 0400 copy.
  const volumes = new Set([
    ...(pod.volumes ?? []).map((v: Obj) => v.name),
    ...(sts.spec.volumeClaimTemplates ?? []).map((v: Obj) => v.metadata.name),
  ]);
  for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
    for (const m of c.volumeMounts ?? []) {
      if (!volumes.has(m.name)) problems.push(`${c.name} mounts missing volume ${m.name}`);
    }
  }
  const dataMount = gateway.volumeMounts?.find((m: Obj) => m.mountPath === envValue("RECONDO_DATA_DIR"));
  const claims = (sts.spec.volumeClaimTemplates ?? []).map((v: Obj) => v.metadata.name);
  if (!dataMount || !claims.includes(dataMount.name)) {
    problems.push("RECONDO_DATA_DIR (the journal) is not on a volumeClaimTemplate volume");
  }
  const configMount = gateway.volumeMounts?.find((m: Obj) =>
    envValue("RECONDO_CONFIG")?.startsWith(m.mountPath + "/")
  );
  const configVolume = pod.volumes?.find((v: Obj) => v.name === configMount?.name);
  if (configVolume?.configMap?.name !== config.metadata.name) {
    problems.push("RECONDO_CONFIG is not a file of the recondo.json ConfigMap");
  }
  for (const name of ["RECONDO_CA_CERT_FILE", "RECONDO_CA_KEY_FILE", "RECONDO_HMAC_KEY_FILE"]) {
    const path = envValue(name);
    const mount = gateway.volumeMounts?.find((m: Obj) => path?.startsWith(m.mountPath + "/"));
    if (!path || !mount) problems.push(`${name} is not a file under a mounted volume`);
    const copied = JSON.stringify(pod.initContainers ?? []).includes(path?.split("/").pop() ?? "\0");
    if (path && !copied) problems.push(`${name}: no init container copies ${path} into place`);
  }
  const secretVolume = pod.volumes?.find((v: Obj) => v.secret);
  if (secretVolume && secretVolume.secret.defaultMode !== 0o400) {
    problems.push("the Secret volume is not 0400");
  }

  // Selectors of the other objects select the gateway pods; DNS egress selects kube-dns only.
  for (const s of find("Service")) {
    if (!selects(s.spec.selector, labels)) {
      problems.push(`Service ${s.metadata.name} does not select the pods`);
    }
    for (const p of s.spec.ports ?? []) {
      if (p.targetPort !== "proxy" && p.targetPort !== 8443) {
        problems.push(`Service port ${p.name} targets ${p.targetPort}`);
      }
    }
  }
  for (const p of find("PodDisruptionBudget")) {
    if (!selects(p.spec.selector?.matchLabels, labels)) {
      problems.push("PodDisruptionBudget does not select the pods");
    }
  }
  for (const h of find("HorizontalPodAutoscaler")) {
    const ref = h.spec.scaleTargetRef;
    if (ref.kind !== "StatefulSet" || ref.name !== sts.metadata.name) {
      problems.push("HPA does not scale the StatefulSet");
    }
  }
  for (const n of find("NetworkPolicy")) {
    if (!selects(n.spec.podSelector?.matchLabels, labels)) {
      problems.push("NetworkPolicy does not select the pods");
    }
    const ingressPorts = (n.spec.ingress ?? []).flatMap((r: Obj) => r.ports ?? []).map((p: Obj) => p.port);
    if (!ingressPorts.includes(8443)) problems.push("NetworkPolicy lets nothing in on 8443");
    const dns = (n.spec.egress ?? []).find((r: Obj) => (r.ports ?? []).some((p: Obj) => p.port === 53));
    const dnsSelector = dns?.to?.[0]?.podSelector?.matchLabels;
    if (JSON.stringify(dnsSelector) !== JSON.stringify({ "k8s-app": "kube-dns" })) {
      problems.push(`NetworkPolicy DNS egress selects ${JSON.stringify(dnsSelector)}, not only kube-dns`);
    }
  }
  return problems;
}
