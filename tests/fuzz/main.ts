/**
 * `deno task fuzz [--target NAME[,NAME]] [--seed N] [--iterations N | --seconds S] [--from I] [--json]`:
 * runs the fuzz targets (all by default) and prints, per target, iterations per second and what was found.
 * Exits 1 when anything was found. Without `--iterations` or `--seconds`, each target runs 10 seconds.
 * @module
 */
import { type Report, runTarget } from "./engine.ts";
import { ALL_TARGETS } from "./targets.ts";

function parseArgs(args: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("--")) throw new Error(`Unexpected argument "${arg}": options are --name value`);
    const eq = arg.indexOf("=");
    if (eq > 0) out[arg.slice(2, eq)] = arg.slice(eq + 1);
    else if (arg === "--json" || arg === "--help") out[arg.slice(2)] = "true";
    else out[arg.slice(2)] = args[++i] ?? "";
  }
  return out;
}

const args = parseArgs(Deno.args);
if (args.help) {
  console.log(
    `deno task fuzz [--target NAME,...] [--seed N] [--iterations N | --seconds S] [--from I] [--json]`,
  );
  for (const t of ALL_TARGETS) console.log(`  ${t.name.padEnd(12)} ${t.description}`);
  Deno.exit(0);
}
const names = args.target ? args.target.split(",") : ALL_TARGETS.map((t) => t.name);
const unknown = names.filter((n) => !ALL_TARGETS.some((t) => t.name === n));
if (unknown.length) {
  throw new Error(
    `Unknown fuzz target "${unknown[0]}": use one of ${ALL_TARGETS.map((t) => t.name).join(", ")}`,
  );
}
const seed = args.seed ? Number(args.seed) : Math.floor(Math.random() * 2 ** 31);
const iterations = args.iterations ? Number(args.iterations) : undefined;
const seconds = args.seconds ? Number(args.seconds) : iterations === undefined ? 10 : undefined;
const reports: Report[] = [];
for (const name of names) {
  const target = ALL_TARGETS.find((t) => t.name === name)!;
  const report = await runTarget(target, {
    seed,
    iterations,
    seconds,
    from: args.from ? Number(args.from) : 0,
  });
  reports.push(report);
  if (!args.json) {
    console.log(
      `${name.padEnd(12)} seed ${seed}  ${report.iterations} iterations in ${report.seconds.toFixed(1)} s ` +
        `(${report.perSecond.toFixed(0)}/s)  findings: ${report.findings.length}`,
    );
    for (const f of report.findings) {
      console.log(`  - iteration ${f.iteration}: ${f.problem}\n    input (base64): ${f.input.slice(0, 400)}`);
    }
  }
}
if (args.json) console.log(JSON.stringify(reports, null, 2));
Deno.exit(reports.some((r) => r.findings.length > 0) ? 1 : 0);
