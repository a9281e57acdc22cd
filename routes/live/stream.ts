import type { Handlers } from "../_lib/context.ts";

/** Server-sent events: one `exchange` event per persisted exchange, and a comment every 15 s to keep proxies open. */
export const handler: Handlers = {
  GET(req, ctx) {
    const encoder = new TextEncoder();
    let stop = () => {};
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        const send = (text: string) => {
          try {
            controller.enqueue(encoder.encode(text));
          } catch {
            stop();
          }
        };
        const unsubscribe = ctx.services.subscribeLive((exchange) => {
          send(`event: exchange\nid: ${exchange.id}\ndata: ${JSON.stringify(exchange)}\n\n`);
        });
        const keepAlive = setInterval(() => send(": keep-alive\n\n"), 15_000);
        stop = () => {
          unsubscribe();
          clearInterval(keepAlive);
        };
        req.signal.addEventListener("abort", () => {
          stop();
          try {
            controller.close();
          } catch { /* already closed */ }
        });
        send("retry: 2000\n\n");
      },
      cancel() {
        stop();
      },
    });
    return new Response(body, {
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store" },
    });
  },
};
