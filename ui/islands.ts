/**
 * Islands: the only client code. Every `islands/Name.tsx` exports a default component; when a page
 * renders one on the server, a Preact `vnode` hook wraps it in `<div data-island="Name" data-props="…">`
 * so the browser bundle (`ui/bundle.ts`) can hydrate it in place. Props must be JSON. Without JavaScript
 * the server-rendered HTML stays, so pages still read.
 * @module
 */
import { type ComponentType, h, options, type VNode } from "preact";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";

/** A discovered island. */
export interface Island {
  name: string;
  file: string;
  component: ComponentType<Record<string, unknown>>;
}

const byComponent = new Map<unknown, Island>();
let installed = false;
let wrapping = false;

/** Loads every `*.tsx` island under `dir` and installs the SSR wrapper hook (once per process). */
export async function discoverIslands(dir: string): Promise<Island[]> {
  const found: Island[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile || !/^[A-Z][A-Za-z0-9]*\.tsx$/.test(entry.name)) continue;
    const file = join(dir, entry.name);
    const module = await import(pathToFileURL(file).href);
    if (typeof module.default !== "function") {
      throw new Error(`Island ${file} must export default a component`);
    }
    found.push({ name: entry.name.replace(/\.tsx$/, ""), file, component: module.default });
  }
  found.sort((a, b) => a.name.localeCompare(b.name));
  for (const island of found) byComponent.set(island.component, island);
  installHook();
  return found;
}

function installHook(): void {
  if (installed) return;
  installed = true;
  const previous = options.vnode;
  options.vnode = (vnode: VNode) => {
    const island = byComponent.get(vnode.type);
    if (island && !wrapping) {
      const props = vnode.props as Record<string, unknown>;
      vnode.type = function IslandMarker() {
        wrapping = true;
        let inner: VNode;
        try {
          inner = h(island.component, props);
        } finally {
          wrapping = false;
        }
        return h("div", { "data-island": island.name, "data-props": JSON.stringify(props) }, inner);
      };
    }
    previous?.(vnode);
  };
}

/** The browser entry that hydrates every island found on the page. */
export function hydrationEntry(islands: Island[], fromDir: string): string {
  const imports = islands.map((island, i) =>
    `import I${i} from ${JSON.stringify(relativeSpecifier(fromDir, island.file))};`
  );
  const table = islands.map((island, i) => `${JSON.stringify(island.name)}: I${i}`).join(", ");
  return `${imports.join("\n")}
import { h, hydrate } from "preact";
const islands = { ${table} };
for (const el of document.querySelectorAll("[data-island]")) {
  const component = islands[el.getAttribute("data-island")];
  if (component) hydrate(h(component, JSON.parse(el.getAttribute("data-props") || "{}")), el);
}
`;
}

function relativeSpecifier(fromDir: string, file: string): string {
  const rel = relative(fromDir, file);
  return rel.startsWith(".") ? rel : `./${rel}`;
}
