import assert from "node:assert/strict";
import { loopbackOnly } from "./loopback_only.ts";

Deno.test("the UI on the proxy port answers loopback clients and refuses others with a page that says why", async () => {
  const served: string[] = [];
  const handle = loopbackOnly((req) => {
    served.push(new URL(req.url).pathname);
    return Promise.resolve(new Response("login form"));
  });
  const req = () => new Request("http://gateway.example:8443/login");
  for (const address of ["127.0.0.1:50123", "::1:50123", "[::1]:50123", "::ffff:127.0.0.1:50123"]) {
    assert.equal(await (await handle(req(), { address }))?.text(), "login form", address);
  }
  for (const address of ["10.1.2.3:50123", "192.168.0.9:4000", "::ffff:10.0.0.1:1", "2001:db8::1:443"]) {
    const res = await handle(req(), { address });
    assert.equal(res?.status, 403, address);
    assert.match(await res!.text(), /served over plain HTTP to this machine only.*ui\.tls\.certFile/s);
  }
  assert.equal(served.length, 4, "refused requests never reach the UI");
});
