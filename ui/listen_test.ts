import assert from "node:assert/strict";
import type { Ui } from "./app.ts";
import { startUiListener } from "./listen.ts";

Deno.test("the UI can listen on its own port, answering 404 where no route matches", async () => {
  const ui: Ui = {
    handle: (req) => Promise.resolve(new URL(req.url).pathname === "/" ? new Response("home") : null),
    live: { publish() {} },
    bundle: () => Promise.reject(new Error("unused")),
    close: () => Promise.resolve(),
  };
  const listener = startUiListener(ui, "127.0.0.1:0");
  try {
    assert.equal(await (await fetch(`http://127.0.0.1:${listener.port}/`)).text(), "home");
    const missing = await fetch(`http://127.0.0.1:${listener.port}/nope`);
    await missing.body?.cancel();
    assert.equal(missing.status, 404);
    assert.throws(
      () => startUiListener(ui, "8444"),
      /--ui-listen must be host:port, e\.g\. 127\.0\.0\.1:8444, got "8444"/,
    );
  } finally {
    await listener.close();
  }
});
