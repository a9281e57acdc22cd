/**
 * Serves `static/` under `/static/`: hashed build output is cached for a year, everything else briefly.
 * Paths are resolved inside the folder only (`..` and encoded tricks get 404).
 * @module
 */
import { extname, join, normalize, sep } from "node:path";

const TYPES: Record<string, string> = {
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
  ".woff2": "font/woff2",
};

/** The response for `/static/<rest>`, or `null` when no such file. */
export async function serveStatic(staticDir: string, pathname: string): Promise<Response | null> {
  let rest: string;
  try {
    rest = decodeURIComponent(pathname.slice("/static/".length));
  } catch {
    return null;
  }
  const root = normalize(staticDir);
  const file = normalize(join(root, rest));
  const type = TYPES[extname(file)];
  if (!file.startsWith(root + sep) || !type || rest.includes("\0")) return null;
  try {
    const body = await Deno.readFile(file);
    const immutable = rest.startsWith("build/");
    return new Response(body, {
      headers: {
        "content-type": type,
        "cache-control": immutable ? "public, max-age=31536000, immutable" : "public, max-age=300",
      },
    });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.IsADirectory) return null;
    throw error;
  }
}
