/**
 * Who may do what, checked on the server for every route: a login is required except on `/login` and the
 * single sign-on steps (`/sso/login`, `/sso/callback`); any method other than GET/HEAD needs a same-origin
 * request carrying the session's CSRF token (form field `_csrf` or header `x-csrf-token`) and, except for
 * logging out, the `admin` role. Hiding buttons from viewers is a courtesy; this is the check.
 * @module
 */
import type { MiddlewareContext } from "./_lib/context.ts";
import { sameToken } from "./_lib/cookies.ts";

const PUBLIC = new Set(["/login", "/sso/login", "/sso/callback"]);
const VIEWER_MAY_POST = new Set(["/logout"]);

/** The browser's own word on where a request comes from: `Origin`, else (or when `null`) `Sec-Fetch-Site`. */
function sameOrigin(req: Request, url: URL): boolean {
  const origin = req.headers.get("origin");
  const site = req.headers.get("sec-fetch-site");
  if (origin && origin !== "null") return origin === url.origin;
  if (origin === "null") return site === "same-origin";
  return site === null || site === "same-origin" || site === "none";
}

async function csrfToken(req: Request): Promise<string | null> {
  const header = req.headers.get("x-csrf-token");
  if (header) return header;
  const type = req.headers.get("content-type") ?? "";
  if (!type.includes("application/x-www-form-urlencoded") && !type.includes("multipart/form-data")) {
    return null;
  }
  const value = (await req.clone().formData()).get("_csrf");
  return typeof value === "string" ? value : null;
}

function forbidden(message: string): Response {
  return new Response(`${message}\n`, {
    status: 403,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}

/** The gate in front of every route. */
export async function handler(req: Request, ctx: MiddlewareContext): Promise<Response> {
  const reading = req.method === "GET" || req.method === "HEAD";
  if (!reading && !sameOrigin(req, ctx.url)) return forbidden("Cross-origin request refused");
  if (PUBLIC.has(ctx.url.pathname)) return ctx.next();
  const user = await ctx.services.currentUser(req);
  if (!user) {
    if (!reading) return new Response("Log in first\n", { status: 401 });
    const next = encodeURIComponent(ctx.url.pathname + ctx.url.search);
    return new Response(null, { status: 303, headers: { location: `/login?next=${next}` } });
  }
  ctx.state.user = user;
  if (!reading) {
    const token = await csrfToken(req);
    if (!token || !sameToken(token, user.csrf)) return forbidden("CSRF token missing or wrong");
    if (user.role !== "admin" && !VIEWER_MAY_POST.has(ctx.url.pathname)) {
      return forbidden(`The ${user.role} role cannot change anything`);
    }
  }
  const notice = ctx.url.searchParams.get("notice");
  if (notice) ctx.state.notice = notice.slice(0, 300);
  return ctx.next();
}
