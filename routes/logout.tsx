import type { Handlers, PageProps } from "./_lib/context.ts";

interface Data {
  providerLogout: string;
}

/**
 * Ends the session (POST only, with the CSRF token, like every change). A single sign-on session then
 * also ends at the provider when it advertises an `end_session_endpoint` (RP-initiated logout), through a
 * page with a `Refresh` header: CSP `form-action 'self'` forbids this form's response from redirecting to
 * another origin.
 */
export const handler: Handlers = {
  async POST(req, ctx) {
    const sso = ctx.state.user?.sso ? ctx.services.sso : null;
    const clear = await ctx.services.logout(req);
    const providerLogout = await sso?.logoutUrl() ?? null;
    if (!providerLogout) {
      return new Response(null, { status: 303, headers: { location: "/login", "set-cookie": clear } });
    }
    ctx.state.user = undefined;
    ctx.state.title = "Logged out";
    return ctx.render({ providerLogout } satisfies Data, {
      headers: { "set-cookie": clear, refresh: `0;url=${providerLogout}` },
    });
  },
};

export default function LoggedOut({ data }: PageProps<Data>) {
  return (
    <section class="login">
      <h1>Logged out</h1>
      <p class="notice" role="status">
        You are logged out of Recondo; now signing you out of single sign-on.
      </p>
      <p>
        <a href={data.providerLogout}>Continue to the identity provider</a>
      </p>
    </section>
  );
}
