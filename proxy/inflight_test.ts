import assert from "node:assert/strict";
import { InFlight } from "./inflight.ts";

function pipe(inFlight: InFlight, port: number) {
  const state = { ended: false };
  inFlight.openPipe(port, { h2: false, end: () => state.ended = true });
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

Deno.test("draining ends idle connections at once and busy ones when their last request ends", () => {
  const inFlight = new InFlight();
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

Deno.test("whenIdle waits for in-flight work and for ended connections to close", async () => {
  const inFlight = new InFlight();
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
