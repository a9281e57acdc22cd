/**
 * The UI on the proxy port is plain HTTP, so it is served only to clients on this machine. The proxy port
 * itself may listen on 0.0.0.0 for agents; a browser reaching it from elsewhere gets this refusal instead of
 * a login form that would send its password in clear. For a team, give the UI its own HTTPS listener
 * (`ui.listen` with `ui.tls`).
 * @module
 */
import { isLoopbackHost } from "../config/ui_schema.ts";

/** `handle`, answering 403 to a client whose address (`host:port` as the front door saw it) is not loopback. */
export function loopbackOnly(
  handle: (req: Request) => Promise<Response | null>,
): (req: Request, client: { address: string }) => Promise<Response | null> {
  return (req, client) => {
    if (isLoopbackHost(hostOf(client.address))) return handle(req);
    return Promise.resolve(
      new Response(
        "The web UI is served over plain HTTP to this machine only. To reach it over the network, an admin " +
          "gives it its own HTTPS address: ui.listen with ui.tls.certFile and ui.tls.keyFile in recondo.json " +
          '(README, "HTTPS and single sign-on").\n',
        { status: 403, headers: { "content-type": "text/plain; charset=utf-8" } },
      ),
    );
  };
}

/** `127.0.0.1:5000` → `127.0.0.1`, `::1:5000` or `[::1]:5000` → `::1`, `::ffff:127.0.0.1:5000` likewise. */
function hostOf(address: string): string {
  const colon = address.lastIndexOf(":");
  return (colon < 0 ? address : address.slice(0, colon)).replace(/^\[|\]$/g, "");
}
