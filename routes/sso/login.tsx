import type { Handlers, PageProps } from "../_lib/context.ts";
import { safeNext } from "../_lib/next_path.ts";

interface Data {
  message: string;
}

/** Single sign-on, step 1: to the provider with a signed, short-lived flow cookie (state, nonce, PKCE). */
export const handler: Handlers = {
  async GET(_req, ctx) {
    const sso = ctx.services.sso;
    if (!sso) return new Response("Single sign-on is not configured (ui.oidc)\n", { status: 404 });
    try {
      const { location, cookie } = await sso.start(safeNext(ctx.url.searchParams.get("next")));
      return new Response(null, { status: 303, headers: { location, "set-cookie": cookie } });
    } catch (error) {
      ctx.state.title = "Single sign-on";
      return ctx.render({ message: (error as Error).message } satisfies Data, { status: 502 });
    }
  },
};

export default function SsoUnavailable({ data }: PageProps<Data>) {
  return (
    <section class="login">
      <h1>Single sign-on unavailable</h1>
      <p class="notice error" role="alert">{data.message}</p>
      <p>
        <a href="/login">Back to the login page</a>
      </p>
    </section>
  );
}
