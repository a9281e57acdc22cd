/**
 * Two builds of the gateway side by side (capture off, or with `--serve` capture on as `recondo serve`), for A/B runs of a proxy-path change on a shared
 * machine: the same upstream, client and load, the paths' order rotating every round, CPU per request
 * from /proc (user + system over the timed windows). `--base DIR` is another checkout of the repository
 * (e.g. `git archive <commit> | tar -x -C DIR`); the other build is this one. `--variant LABEL:K=V,K=V`
 * (repeatable) adds this build again with more environment, for switches under test.
 *
 *   deno run -A --unstable-no-legacy-abort bench/ab_gateway.ts --base /tmp/base [--rounds 4] [--profile DIR]
 *     [--serve]
 * @module
 */
import { join } from "node:path";
import { measureLatency, measureThroughput, type Path, proxiedPath } from "./measure.ts";
import { ProcessGroup } from "./processes.ts";
import { fixed, percentile } from "./stats.ts";
import { realDenoBinary, startRecondo, startUpstream, writeUpstreamCertificate } from "./services.ts";
import { summarizeCpuProfile } from "./cpu_profile.ts";

function arg(name: string): string | undefined {
  const at = Deno.args.indexOf(name);
  return at >= 0 ? Deno.args[at + 1] : undefined;
}

async function main(): Promise<void> {
  const base = arg("--base");
  const rounds = Number(arg("--rounds") ?? 4);
  const profileDir = arg("--profile") ?? null;
  // Capture on: each build runs `main.ts serve` (SQLite and object files in its own data dir).
  const serve = Deno.args.includes("--serve");
  const entryIn = (dir: string) =>
    serve ? [join(dir, "main.ts"), "serve"] : [join(dir, "bench", "gateway_only.ts")];
  const group = new ProcessGroup();
  const work = await Deno.makeTempDir({ prefix: "recondo-ab-" });
  try {
    const deno = await realDenoBinary();
    const { caPem, files } = await writeUpstreamCertificate(work, "upstream");
    const upstream = await startUpstream(group, files);
    const common = {
      deno,
      upstreamPort: upstream.port,
      upstreamCaFile: files.ca,
      variant: serve ? "serve" as const : "proxy-only" as const,
    };
    const variants = Deno.args.flatMap((a, i) => Deno.args[i - 1] === "--variant" ? [a] : []);
    const builds = [
      ...(base ? [{ name: "base", entry: entryIn(base), env: {} }] : []),
      { name: "this", entry: entryIn("."), env: {} },
      ...variants.map((v) => {
        const [name, settings = ""] = v.split(":");
        const env = Object.fromEntries(
          settings.split(",").filter(Boolean).map((kv) => {
            const at = kv.indexOf("=");
            return [kv.slice(0, at), kv.slice(at + 1)];
          }),
        );
        return { name, entry: entryIn("."), env };
      }),
    ];
    const proxies = await Promise.all(builds.map((build) =>
      startRecondo(group, {
        ...common,
        dataDir: join(work, build.name),
        entry: build.entry,
        env: build.env,
        cpuProfileDir: profileDir && join(profileDir, build.name),
      }).then((proxy) => ({ ...proxy, name: build.name }))
    ));
    const paths: Path[] = [
      { name: "direct", url: `https://127.0.0.1:${upstream.port}/v1/messages`, caPem },
      ...proxies.map((p) => proxiedPath(p)),
    ];
    const context = { group, deno, upstream: upstream.service };
    const latency = await measureLatency(context, paths, { rounds: 2, count: 500, warmup: 100 });
    const load = await measureThroughput(context, paths, {
      rounds,
      connections: 32,
      durationMs: 4000,
      warmup: 20,
    });
    for (const path of paths) {
      const t = load.get(path.name)!;
      const cpu = t.cpuMs.proxy === null ? "—" : fixed(t.cpuMs.proxy / t.completed, 3);
      console.log(
        `${path.name.padEnd(8)} p50 ${fixed(percentile(latency.get(path.name)!, 50), 3)} ms  ` +
          `req/s ${fixed(t.completed / t.seconds, 0)} (${t.rounds.map((r) => fixed(r, 0)).join(", ")})  ` +
          `proxy CPU ms/req ${cpu}  errors ${t.errors}`,
      );
    }
    await group.stopAll();
    if (profileDir) {
      for (const build of builds) {
        console.log(`\n## ${build.name}\n${await summarizeCpuProfile(join(profileDir, build.name))}`);
      }
    }
  } finally {
    await group.stopAll();
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await main();
