/**
 * File-route discovery, Fresh's convention: `routes/sessions/[id].tsx` serves `/sessions/:id`,
 * `routes/sessions/index.tsx` serves `/sessions`, and each folder's `_layout.tsx` and `_middleware.ts`
 * wrap every route below it (outermost first). Other names starting with `_` and `*_test.ts(x)` are not
 * routes. Static segments win over dynamic ones.
 * @module
 */
import type { ComponentType } from "preact";
import { join, relative, sep } from "node:path";
import { pathToFileURL } from "node:url";
import type { Handlers, LayoutProps, MiddlewareModule, PageProps } from "../routes/_lib/context.ts";

/** A loaded route. */
export interface Route {
  /** `/sessions/:id` */
  pattern: string;
  file: string;
  handlers: Handlers;
  page: ComponentType<PageProps> | null;
  layouts: ComponentType<LayoutProps>[];
  middlewares: MiddlewareModule[];
  match(pathname: string): Record<string, string> | null;
}

interface RouteModule {
  default?: ComponentType<PageProps>;
  handler?: Handlers;
}

async function* files(dir: string): AsyncGenerator<string> {
  const entries = [];
  for await (const entry of Deno.readDir(dir)) entries.push(entry);
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory && !entry.name.startsWith("_")) yield* files(path);
    else if (entry.isFile && /\.tsx?$/.test(entry.name) && !/_test\.tsx?$/.test(entry.name)) yield path;
  }
}

/** `sessions/[id].tsx` → `/sessions/:id`; throws naming the file for a segment we cannot route. */
export function patternOf(relativeFile: string): string {
  const parts = relativeFile.replace(/\.tsx?$/, "").split(sep);
  if (parts.at(-1) === "index") parts.pop();
  const segments = parts.map((part) => {
    const dynamic = part.match(/^\[([a-zA-Z_][a-zA-Z0-9_]*)\]$/);
    if (dynamic) return `:${dynamic[1]}`;
    if (!/^[a-z0-9._-]+$/.test(part)) {
      throw new Error(`Cannot route "${relativeFile}": bad segment "${part}"`);
    }
    return part;
  });
  return `/${segments.join("/")}`;
}

function matcher(pattern: string): (pathname: string) => Record<string, string> | null {
  const names: string[] = [];
  const source = pattern === "/"
    ? ""
    : pattern.replace(/[.]/g, "\\.").replace(/:([a-zA-Z0-9_]+)/g, (_, n) => {
      names.push(n);
      return "([^/]+)";
    });
  const regex = new RegExp(`^${source}/?$`);
  return (pathname) => {
    const m = regex.exec(pathname);
    if (!m) return null;
    const params: Record<string, string> = {};
    try {
      names.forEach((n, i) => params[n] = decodeURIComponent(m[i + 1]));
    } catch {
      return null;
    }
    return params;
  };
}

/** Static segments sort before dynamic ones, longer patterns before shorter. */
function rank(pattern: string): string {
  return pattern.split("/").map((s) => (s.startsWith(":") ? "~" : `!${s}`)).join("/");
}

/** Imports every route under `dir` with its layouts and middlewares. */
export async function discoverRoutes(dir: string): Promise<Route[]> {
  const layouts = new Map<string, ComponentType<LayoutProps>>();
  const middlewares = new Map<string, MiddlewareModule>();
  const pages: { rel: string; module: RouteModule; file: string }[] = [];
  for await (const file of files(dir)) {
    const rel = relative(dir, file);
    const name = rel.split(sep).at(-1)!;
    const folder = rel.split(sep).slice(0, -1).join("/");
    const module = await import(pathToFileURL(file).href);
    if (/^_layout\.tsx?$/.test(name)) {
      if (typeof module.default !== "function") {
        throw new Error(`${rel} must export default a layout component`);
      }
      layouts.set(folder, module.default);
    } else if (/^_middleware\.tsx?$/.test(name)) {
      if (typeof module.handler !== "function") throw new Error(`${rel} must export a handler function`);
      middlewares.set(folder, module as MiddlewareModule);
    } else if (!name.startsWith("_")) {
      pages.push({ rel, module, file });
    }
  }
  const routes = pages.map(({ rel, module, file }): Route => {
    const pattern = patternOf(rel);
    const folders = rel.split(sep).slice(0, -1);
    const chain = [""].concat(folders.map((_, i) => folders.slice(0, i + 1).join("/")));
    return {
      pattern,
      file,
      handlers: module.handler ?? {},
      page: module.default ?? null,
      layouts: chain.map((f) => layouts.get(f)).filter((l): l is ComponentType<LayoutProps> => Boolean(l)),
      middlewares: chain.map((f) => middlewares.get(f)).filter((m): m is MiddlewareModule => Boolean(m)),
      match: matcher(pattern),
    };
  });
  routes.sort((a, b) => rank(a.pattern).localeCompare(rank(b.pattern)));
  return routes;
}
