import assert from "node:assert/strict";
import { join } from "node:path";
import { bundleId, collectModules, materializeModules, sourceHash } from "./module_bundle.ts";

async function tree(files: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "recondo-bundle-" });
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(join(dir, path, ".."), { recursive: true });
    await Deno.writeTextFile(join(dir, path), text);
  }
  return dir;
}

Deno.test("a module's local imports are collected recursively; built-ins and bare specifiers are not", async () => {
  const dir = await tree({
    "policies/mine.ts": `import { z } from "zod";\nimport type { PolicyModule } from "recondo/policy";\n` +
      `import { a } from "./lib/a.ts";\nexport { b } from "../common/b.ts";\nconst c = await import("./c.ts");\n`,
    "policies/lib/a.ts": `import "./side.ts";\nexport const a = 1;\n`,
    "policies/lib/side.ts": `export {};\n`,
    "policies/c.ts": `export const c = 3;\n`,
    "common/b.ts": `export const b = 2;\n`,
  });
  const bundle = await collectModules([{ use: "block-list" }, { use: "./policies/mine.ts" }], dir);
  assert.deepEqual(Object.keys(bundle.manifest).sort(), [
    "common/b.ts",
    "policies/c.ts",
    "policies/lib/a.ts",
    "policies/lib/side.ts",
    "policies/mine.ts",
  ]);
  assert.equal(bundle.manifest["common/b.ts"], sourceHash(`export const b = 2;\n`));
  assert.equal(bundle.sources.size, 5);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("an import that leaves the config's folder is refused with a message naming it", async () => {
  const dir = await tree({ "conf/mine.ts": `import { x } from "../../outside.ts";\n` });
  await assert.rejects(
    collectModules([{ use: "./mine.ts" }], join(dir, "conf")),
    /mine\.ts: it imports .*outside\.ts, outside .*recondo\/policy/,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("materialising writes the exact sources once, and refuses a source that does not match its hash", async () => {
  const dir = await tree({ "m.ts": "export default 1;\n", "lib/x.ts": "export const x = 1;\n" });
  const cache = await Deno.makeTempDir({ prefix: "recondo-modules-" });
  const bundle = await collectModules([{ use: "./m.ts" }], dir);
  const target = await materializeModules(bundle.manifest, bundle.sources, cache);
  assert.equal(target, join(cache, bundleId(bundle.manifest)));
  assert.equal(await Deno.readTextFile(join(target, "m.ts")), "export default 1;\n");
  assert.equal(await materializeModules(bundle.manifest, bundle.sources, cache), target, "reused");
  const forged = new Map([[bundle.manifest["m.ts"], "export default 2;\n"]]);
  await assert.rejects(
    materializeModules({ "m.ts": bundle.manifest["m.ts"] }, forged, await Deno.makeTempDir()),
    /does not match its hash/,
  );
  await Deno.remove(dir, { recursive: true });
  await Deno.remove(cache, { recursive: true });
});
