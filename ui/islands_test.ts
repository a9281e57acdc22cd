import assert from "node:assert/strict";
import { h } from "preact";
import { renderToString } from "preact-render-to-string";
import { fileURLToPath } from "node:url";
import { discoverIslands, hydrationEntry } from "./islands.ts";

const ISLANDS = fileURLToPath(new URL("../islands/", import.meta.url));

Deno.test("an island rendered on the server is wrapped with its name and JSON props for hydration", async () => {
  const islands = await discoverIslands(ISLANDS);
  const live = islands.find((i) => i.name === "LiveFeed");
  assert.ok(live, "LiveFeed is discovered");
  const html = renderToString(h("main", null, h(live.component, { initial: [] })));
  assert.match(html, /^<main><div data-island="LiveFeed" data-props="\{&quot;initial&quot;:\[\]\}"><div>/);
  assert.match(html, /<table>/, "the server-rendered content stays inside the marker");
  const entry = hydrationEntry(islands, ISLANDS);
  assert.match(entry, /import I\d from "\.\/LiveFeed\.tsx";/);
  assert.match(entry, /hydrate\(h\(component, JSON\.parse/);
});
