import type { Handlers, PageProps } from "./_lib/context.ts";
import { cookie, randomToken, readCookie, sameToken } from "./_lib/cookies.ts";
import { safeNext } from "./_lib/next_path.ts";

const LOGIN_CSRF = "recondo_login_csrf";

interface Data {
  csrf: string;
  /** Single sign-on is configured: offer it first. */
  sso: boolean;
  next: string;
  error?: string;
}

async function form(ctx: Parameters<NonNullable<Handlers["GET"]>>[1], error?: string, status = 200) {
  const csrf = randomToken(18);
  ctx.state.title = "Log in";
  const res = await ctx.render(
    {
      csrf,
      sso: ctx.services.sso !== null,
      next: safeNext(ctx.url.searchParams.get("next")),
      error,
    } satisfies Data,
    {
      status,
    },
  );
  res.headers.append("set-cookie", cookie(LOGIN_CSRF, csrf, 3600));
  return res;
}

/** Login: a double-submit token (cookie + field) stops other sites from logging a browser in. */
export const handler: Handlers = {
  GET(_req, ctx) {
    return form(ctx);
  },
  async POST(req, ctx) {
    const body = await req.formData();
    const sent = String(body.get("_csrf") ?? "");
    const expected = readCookie(req, LOGIN_CSRF);
    if (!expected || !sameToken(sent, expected)) {
      return new Response("CSRF token missing or wrong\n", { status: 403 });
    }
    const session = await ctx.services.login(
      String(body.get("name") ?? "").trim(),
      String(body.get("password") ?? ""),
    );
    if (!session) return form(ctx, "Wrong name or password.", 401);
    const headers = new Headers({ location: safeNext(String(body.get("next") ?? "/")) });
    headers.append("set-cookie", session.cookie);
    headers.append("set-cookie", cookie(LOGIN_CSRF, "", 0));
    return new Response(null, { status: 303, headers });
  },
};

export default function Login({ data }: PageProps<Data>) {
  return (
    <section class="login">
      <h1>Recondo</h1>
      <p>
        Log in with your account, or with the bootstrap token from the server's log (leave the name empty).
      </p>
      {data.error ? <p class="notice error" role="alert">{data.error}</p> : null}
      {data.sso
        ? (
          <p>
            {/* A link, not a form: CSP form-action 'self' would stop a form's redirect to the provider. */}
            <a class="button" href={`/sso/login?next=${encodeURIComponent(data.next)}`}>
              Log in with single sign-on
            </a>
          </p>
        )
        : null}
      <form method="post" action="/login">
        <input type="hidden" name="_csrf" value={data.csrf} />
        <input type="hidden" name="next" value={data.next} />
        <label>
          Name
          <input name="name" autocomplete="username" autofocus />
        </label>
        <label>
          Password or bootstrap token
          <input name="password" type="password" autocomplete="current-password" required />
        </label>
        <button type="submit">Log in</button>
      </form>
    </section>
  );
}
