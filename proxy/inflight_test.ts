import assert from "node:assert/strict";
import { InFlight } from "./inflight.ts";

function pipe(inFlight: InFlight, port: number, h2 = false) {
  const state = { ended: false };
  inFlight.openPipe(port, { h2, end: () => state.ended = true });
  return state;
}

Deno.test("total counts exchanges, websockets and tunnels but not local requests", () => {
  const inFlight = new InFlight();
  const releases = [
    inFlight.hold("exchange"),
    inFlight.hold("websocket"),
    inFlight.hold("tunnel"),
    inFlight.hold("local"),
  ];
  assert.equal(inFlight.total, 3);
  for (const release of releases) release();
  releases[0]();
  assert.equal(inFlight.total, 0, "a second release counted twice");
});

Deno.test("without lingering, draining ends idle connections at once and busy ones when their last request ends", () => {
  const inFlight = new InFlight({ lingerMs: 0 });
  const idle = pipe(inFlight, 1);
  const busy = pipe(inFlight, 2);
  const release = inFlight.hold("exchange", 2);
  inFlight.startDraining();
  assert.equal(idle.ended, true);
  assert.equal(busy.ended, false);
  release();
  assert.equal(busy.ended, true);
});

Deno.test("a connection is not ended when its request ends before draining", () => {
  const inFlight = new InFlight();
  const keepAlive = pipe(inFlight, 1);
  inFlight.hold("exchange", 1)();
  assert.equal(keepAlive.ended, false);
});

Deno.test("an idle h1 connection lingers for a last request, which is told to close; h2 ends at once", async () => {
  const inFlight = new InFlight({ lingerMs: 30 });
  const reused = pipe(inFlight, 1);
  const unused = pipe(inFlight, 2);
  const h2 = pipe(inFlight, 3, true);
  inFlight.startDraining();
  assert.equal(h2.ended, true, "h2 has no connection: close, so lingering would not help");
  assert.equal(reused.ended, false);
  assert.equal(unused.ended, false);
  const idle = inFlight.whenIdle(5_000);
  // The client reuses the connection during the linger: the request is served and marked to close.
  const release = inFlight.hold("exchange", 1);
  inFlight.announceClose(1);
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(unused.ended, true, "an unused connection ends after lingering");
  assert.equal(reused.ended, false, "a connection with a request in flight is not ended by the linger timer");
  release();
  assert.equal(reused.ended, true, "ended as soon as its closing response is done");
  inFlight.closePipe(1);
  inFlight.closePipe(2);
  inFlight.closePipe(3);
  assert.equal(await idle, true);
});

Deno.test("whenIdle waits for in-flight work and for ended connections to close", async () => {
  const inFlight = new InFlight({ lingerMs: 0 });
  pipe(inFlight, 1);
  const release = inFlight.hold("exchange", 1);
  inFlight.startDraining();
  let idle: boolean | null = null;
  const waiting = inFlight.whenIdle(10_000).then((value) => idle = value);
  release();
  await Promise.resolve();
  assert.equal(idle, null, "idle before the ended connection closed");
  inFlight.closePipe(1);
  await waiting;
  assert.equal(idle, true);
});

Deno.test("whenIdle answers false after its timeout while something is in flight", async () => {
  const inFlight = new InFlight();
  inFlight.hold("tunnel");
  assert.equal(await inFlight.whenIdle(10), false);
});
