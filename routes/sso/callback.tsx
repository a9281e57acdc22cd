import type { Handlers, PageProps } from "../_lib/context.ts";

interface Data {
  ok: boolean;
  message: string;
  next: string;
}

/**
 * Single sign-on, step 2: the provider sends the browser back here. A refusal (tampered or replayed
 * `state`, provider error, no allowed group) is a page and no session. On success the page moves on with
 * a `Refresh` header rather than a redirect: this request is a cross-site navigation from the provider, so
 * a redirect would still be cross-site and the browser would withhold the new `SameSite=Strict` session
 * cookie from it; the refresh is a navigation of our own page.
 */
export const handler: Handlers = {
  async GET(req, ctx) {
    const sso = ctx.services.sso;
    if (!sso) return new Response("Single sign-on is not configured (ui.oidc)\n", { status: 404 });
    const outcome = await sso.finish(req, ctx.url);
    ctx.state.title = "Single sign-on";
    const headers = new Headers();
    if (outcome.ok || outcome.flowEnded) headers.append("set-cookie", sso.clearFlow());
    if (!outcome.ok) {
      return ctx.render({ ok: false, message: outcome.message, next: "/login" } satisfies Data, {
        status: outcome.status,
        headers,
      });
    }
    headers.append("set-cookie", outcome.cookie);
    headers.set("refresh", `0;url=${outcome.next}`);
    const message = `Logged in as ${outcome.user} (${outcome.role}).`;
    return ctx.render({ ok: true, message, next: outcome.next } satisfies Data, { headers });
  },
};

export default function SsoCallback({ data }: PageProps<Data>) {
  return (
    <section class="login">
      <h1>{data.ok ? "Logged in" : "Login refused"}</h1>
      <p class={data.ok ? "notice" : "notice error"} role={data.ok ? "status" : "alert"}>{data.message}</p>
      <p>
        <a href={data.next}>{data.ok ? "Continue" : "Back to the login page"}</a>
      </p>
    </section>
  );
}
