import assert from "node:assert/strict";
import { join } from "node:path";
import { discoverRoutes, patternOf } from "./router.ts";

async function writeTree(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(join(root, path, ".."), { recursive: true });
    await Deno.writeTextFile(join(root, path), text);
  }
}

Deno.test("file names become URL patterns the way Fresh names them", () => {
  assert.equal(patternOf("index.tsx"), "/");
  assert.equal(patternOf("sessions/index.tsx"), "/sessions");
  assert.equal(patternOf("sessions/[id].tsx"), "/sessions/:id");
  assert.equal(patternOf("live/stream.ts"), "/live/stream");
  assert.throws(() => patternOf("Bad Name.tsx"), /Cannot route "Bad Name.tsx": bad segment "Bad Name"/);
});

Deno.test("discovery finds routes with their layouts and middlewares, skips _private files and tests", async () => {
  const root = await Deno.makeTempDir();
  try {
    const page = "export default function P() { return null; }\n";
    await writeTree(root, {
      "index.tsx": page,
      "_layout.tsx": "export default function L() { return null; }\n",
      "_middleware.ts": "export function handler(_req, ctx) { return ctx.next(); }\n",
      "_lib/helper.ts": "export const x = 1;\n",
      "sessions/index.tsx": page,
      "sessions/[id].tsx": page,
      "sessions/new.tsx": page,
      "sessions/_layout.tsx": "export default function Inner() { return null; }\n",
      "sessions/new_test.ts": "throw new Error('a test is not a route');\n",
    });
    const routes = await discoverRoutes(root);
    assert.deepEqual(routes.map((r) => r.pattern).sort(), [
      "/",
      "/sessions",
      "/sessions/:id",
      "/sessions/new",
    ]);
    const find = (path: string) => routes.find((r) => r.match(path));
    assert.equal(find("/sessions/new")?.pattern, "/sessions/new", "a static segment wins over :id");
    assert.deepEqual(find("/sessions/a%20b")?.match("/sessions/a%20b"), { id: "a b" });
    assert.equal(find("/sessions/a/b"), undefined);
    assert.equal(find("/sessions/")?.pattern, "/sessions");
    assert.equal(find("/sessions/x")?.layouts.length, 2);
    assert.equal(find("/")?.layouts.length, 1);
    assert.equal(find("/")?.middlewares.length, 1);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
