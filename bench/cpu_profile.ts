/**
 * Reads the V8 `.cpuprofile` Recondo wrote under `deno run --cpu-prof` and says where its main thread's
 * time went: self time by source file and by function, and inclusive time of Recondo's own functions.
 * Native work done on the main thread (rustls, hyper, socket ops) appears as "(program)" or under the
 * JS function that called the op.
 * @module
 */
import { join } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const ROOT = new URL("../", import.meta.url).href;

function fileOf(url: string): string {
  if (!url) return "(native)";
  if (url.startsWith(ROOT)) return url.slice(ROOT.length);
  const npm = /node_modules\/\.deno\/([^/]+)\//.exec(url) ?? /\/npm\/[^/]+\/([^/]+\/[^/]+)\//.exec(url);
  if (npm) return `npm:${npm[1]}`;
  return url.replace(/^ext:/, "ext:").replace(/^node:/, "node:");
}

function top(map: Map<string, number>, total: number, count: number): string[] {
  return [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, count).map(([name, us]) =>
    `| ${name.replaceAll("|", "\\|")} | ${(us / 1000).toFixed(0)} | ${((us / total) * 100).toFixed(1)}% |`
  );
}

/** Summarizes the newest `.cpuprofile` in `dir` as markdown tables. */
export async function summarizeCpuProfile(dir: string): Promise<string> {
  let newest: { path: string; mtime: number } | null = null;
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.name.endsWith(".cpuprofile")) continue;
    const path = join(dir, entry.name);
    const mtime = (await Deno.stat(path)).mtime?.getTime() ?? 0;
    if (!newest || mtime > newest.mtime) newest = { path, mtime };
  }
  if (!newest) return `No .cpuprofile in ${dir} (did Recondo exit cleanly?)`;
  const profile = JSON.parse(await Deno.readTextFile(newest.path)) as CpuProfile;

  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

  let total = 0;
  let idle = 0;
  const byFile = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const label = (node: ProfileNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    return `${functionName || "(anonymous)"} ${fileOf(url)}${url ? `:${lineNumber + 1}` : ""}`;
  };
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    total += us;
    if (node.callFrame.functionName === "(idle)") {
      idle += us;
      continue;
    }
    const file = fileOf(node.callFrame.url);
    byFile.set(file, (byFile.get(file) ?? 0) + us);
    byFunction.set(label(node), (byFunction.get(label(node)) ?? 0) + us);
    // Inclusive time of Recondo's own functions: credit each distinct frame once per sample path.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!;
      if (!frame.callFrame.url.startsWith(ROOT)) continue;
      const name = label(frame);
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + us);
    }
  }
  const busy = total - idle;
  const header = ["| where | ms | share of busy time |", "|---|---:|---:|"];
  return [
    `CPU profile ${newest.path}: ${(total / 1000).toFixed(0)} ms sampled, ` +
    `${(busy / 1000).toFixed(0)} ms busy (${((busy / total) * 100).toFixed(0)}%).`,
    "",
    "Self time by file:",
    "",
    ...header,
    ...top(byFile, busy, 15),
    "",
    "Self time by function:",
    "",
    ...header,
    ...top(byFunction, busy, 25),
    "",
    "Inclusive time of Recondo's functions:",
    "",
    ...header,
    ...top(inclusive, busy, 25),
  ].join("\n");
}

if (import.meta.main) console.log(await summarizeCpuProfile(Deno.args[0] ?? "bench/results"));
