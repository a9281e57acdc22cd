import type { Handlers } from "./_lib/context.ts";

/** Ends the session (POST only, with the CSRF token, like every change). */
export const handler: Handlers = {
  async POST(req, ctx) {
    const clear = await ctx.services.logout(req);
    return new Response(null, { status: 303, headers: { location: "/login", "set-cookie": clear } });
  },
};
