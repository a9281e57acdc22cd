import type { Handlers, PageProps } from "../_lib/context.ts";
import { type LiveExchange, recentExchanges } from "../../storage/ui/activity.ts";
import LiveFeed from "../../islands/LiveFeed.tsx";

export const handler: Handlers = {
  async GET(_req, ctx) {
    ctx.state.title = "Live";
    return ctx.render(await recentExchanges(ctx.services.db, 50));
  },
};

export default function Live({ data }: PageProps<LiveExchange[]>) {
  return (
    <>
      <h1>Live</h1>
      <p>Exchanges appear here as capture persists them.</p>
      <LiveFeed initial={data} />
    </>
  );
}
