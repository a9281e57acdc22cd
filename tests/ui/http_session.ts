/**
 * Test support: logs in through the real login form (double-submit CSRF) and posts forms the way a
 * browser does, so HTTP-level UI tests exercise the same checks as a user.
 * @module
 */

/** A logged-in UI session. */
export interface UiSession {
  cookie: string;
  csrf: string;
  get(path: string): Promise<Response>;
  /** Posts a form with this session's CSRF token unless `fields._csrf` overrides it. */
  post(path: string, fields: Record<string, string>, headers?: Record<string, string>): Promise<Response>;
}

/** Logs `name` in at `base`; throws naming the status when the login is refused. */
export async function loginOverHttp(base: string, name: string, password: string): Promise<UiSession> {
  const form = await fetch(`${base}/login`);
  const html = await form.text();
  const preCookie = form.headers.get("set-cookie")!.split(";")[0];
  const loginCsrf = html.match(/name="_csrf" value="([^"]+)"/)![1];
  const res = await fetch(`${base}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { cookie: preCookie, "content-type": "application/x-www-form-urlencoded", origin: base },
    body: new URLSearchParams({ _csrf: loginCsrf, name, password, next: "/" }),
  });
  await res.body?.cancel();
  const session = res.headers.getSetCookie().find((c) => c.startsWith("recondo_ui="));
  if (res.status !== 303 || !session) throw new Error(`Login of "${name}" refused with status ${res.status}`);
  const cookie = session.split(";")[0];
  const page = await (await fetch(`${base}/policies`, { headers: { cookie } })).text();
  const csrf = page.match(/name="_csrf" value="([^"]+)"/)![1];
  return {
    cookie,
    csrf,
    get: (path) => fetch(`${base}${path}`, { headers: { cookie }, redirect: "manual" }),
    post: (path, fields, headers = {}) =>
      fetch(`${base}${path}`, {
        method: "POST",
        redirect: "manual",
        headers: { cookie, "content-type": "application/x-www-form-urlencoded", origin: base, ...headers },
        body: new URLSearchParams({ _csrf: csrf, ...fields }),
      }),
  };
}

/** The chain version hash the policies page embeds in its forms. */
export async function chainVersion(session: UiSession): Promise<string> {
  const html = await (await session.get("/policies")).text();
  return html.match(/name="version" value="([^"]+)"/)![1];
}
