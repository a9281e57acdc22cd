/**
 * What a V8 heap snapshot holds, by kind of object, and what grew between two of them: for finding what a
 * gateway keeps per stream (`bench/soak_probe.ts` writes the snapshots).
 *
 *   deno run -A bench/heap_summary.ts EARLY.heapsnapshot [LATE.heapsnapshot] [--top 40] [--per 500]
 *
 * Groups nodes by type and name (a constructor, `(concatenated string)`, `system / Context`, …) and
 * prints count and self size; with two snapshots, the difference, largest growth first. `--per N`
 * divides the figures by N (streams open) to read them per stream.
 * @module
 */

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export interface Group {
  count: number;
  bytes: number;
}

/** Count and self size of every (type, name) group of a snapshot's nodes. */
export function groupNodes(snapshot: Snapshot): Map<string, Group> {
  const fields = snapshot.snapshot.meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const types = snapshot.snapshot.meta.node_types[0];
  const groups = new Map<string, Group>();
  const { nodes, strings } = snapshot;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt]];
    // Strings are named by their content: one group per type of string, not per text.
    const name = type === "string" || type === "concatenated string" || type === "sliced string"
      ? ""
      : strings[nodes[i + nameAt]].slice(0, 60);
    const key = `${type}\t${name}`;
    const group = groups.get(key) ?? { count: 0, bytes: 0 };
    group.count++;
    group.bytes += nodes[i + sizeAt];
    groups.set(key, group);
  }
  return groups;
}

async function load(file: string): Promise<Map<string, Group>> {
  return groupNodes(JSON.parse(await Deno.readTextFile(file)) as Snapshot);
}

function flag(name: string, fallback: number): number {
  const at = Deno.args.indexOf(`--${name}`);
  return at < 0 ? fallback : Number(Deno.args[at + 1]);
}

if (import.meta.main) {
  const files = Deno.args.filter((arg, i) => !arg.startsWith("--") && !Deno.args[i - 1]?.startsWith("--"));
  if (files.length === 0) throw new Error("Usage: heap_summary.ts EARLY.heapsnapshot [LATE.heapsnapshot]");
  const top = flag("top", 40);
  const per = flag("per", 1);
  const early = await load(files[0]);
  const late = files[1] ? await load(files[1]) : new Map<string, Group>();
  const rows = [...new Set([...early.keys(), ...late.keys()])].map((key) => {
    const a = early.get(key) ?? { count: 0, bytes: 0 };
    const b = late.get(key) ?? { count: 0, bytes: 0 };
    return { key, a, b, growth: files[1] ? b.bytes - a.bytes : a.bytes };
  }).sort((x, y) => y.growth - x.growth);
  const total = (m: Map<string, Group>) => [...m.values()].reduce((s, g) => s + g.bytes, 0);
  console.log(
    `total self size: ${(total(early) / 1e6).toFixed(1)} MB` +
      (files[1] ? ` → ${(total(late) / 1e6).toFixed(1)} MB` : ""),
  );
  const unit = per === 1 ? "bytes" : `bytes per ${per}`;
  console.log(
    ["type\tname", `count`, unit, ...(files[1] ? ["late count", "late " + unit, "growth"] : [])].join("\t"),
  );
  for (const row of rows.slice(0, top)) {
    const cells = [row.key, (row.a.count / per).toFixed(1), (row.a.bytes / per).toFixed(0)];
    if (files[1]) {
      cells.push(
        (row.b.count / per).toFixed(1),
        (row.b.bytes / per).toFixed(0),
        (row.growth / per).toFixed(0),
      );
    }
    console.log(cells.join("\t"));
  }
}
