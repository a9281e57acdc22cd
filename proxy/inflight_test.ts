import assert from "node:assert/strict";
import { InFlight } from "./inflight.ts";

function pipe(inFlight: InFlight, port: number) {
  const state = { ended: false };
  inFlight.openPipe(port, { h2: false, end: () => state.ended = true });
  return state;
}

/** An h2 pipe: records its GOAWAYs (last stream ids) and its end; the test sets the client's streams. */
function h2Pipe(inFlight: InFlight, port: number) {
  const end = Promise.withResolvers<void>();
  const state = {
    ended: false,
    end: end.promise,
    goAways: [] as number[],
    lastStream: { id: 0, at: -Infinity },
  };
  inFlight.openPipe(port, {
    h2: true,
    end: () => {
      state.ended = true;
      end.resolve();
    },
    goAway: (id) => state.goAways.push(id),
    lastStream: () => state.lastStream,
  });
  return state;
}

const MAX = 2 ** 31 - 1;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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

Deno.test("an idle h1 connection lingers for a last request, which is told to close", async () => {
  const inFlight = new InFlight({ lingerMs: 30 });
  const reused = pipe(inFlight, 1);
  const unused = pipe(inFlight, 2);
  inFlight.startDraining();
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
  assert.equal(await idle, true);
});

Deno.test("drain sends every h2 connection a GOAWAY refusing nothing, then a final one once idle after the grace", async () => {
  const inFlight = new InFlight({ goAwayGraceMs: 40 });
  const idle = h2Pipe(inFlight, 1);
  const busy = h2Pipe(inFlight, 2);
  busy.lastStream = { id: 5, at: performance.now() };
  const release = inFlight.hold("exchange", 2);
  inFlight.startDraining();
  assert.deepEqual(idle.goAways, [MAX]);
  assert.deepEqual(busy.goAways, [MAX]);
  assert.equal(idle.ended, false, "a stream the client sent before the GOAWAY reached it may still come");
  const drained = inFlight.whenIdle(5_000);
  await idle.end;
  assert.deepEqual(idle.goAways, [MAX, 0]);
  assert.equal(idle.ended, true);
  assert.deepEqual(busy.goAways, [MAX], "a busy connection got its final GOAWAY");
  release();
  assert.deepEqual(busy.goAways, [MAX, 5], "idle and past its grace: the final GOAWAY names its last stream");
  assert.equal(busy.ended, true);
  inFlight.closePipe(1);
  inFlight.closePipe(2);
  assert.equal(await drained, true);
});

Deno.test("an h2 stream opened late in the grace gets a grace of its own before the final GOAWAY", async () => {
  const inFlight = new InFlight({ goAwayGraceMs: 40 });
  const late = h2Pipe(inFlight, 1);
  inFlight.startDraining();
  await sleep(25);
  // Its HEADERS went through the pipe, but the inner server has not called the handler yet.
  late.lastStream = { id: 1, at: performance.now() };
  await sleep(25);
  assert.equal(late.ended, false, "ended while a stream was on its way to the inner server");
  inFlight.hold("exchange", 1)();
  await late.end;
  assert.deepEqual(late.goAways, [MAX, 1]);
  assert.equal(late.ended, true);
});

Deno.test("an h2 connection opened while draining gets the GOAWAY at once and is ended after the grace", async () => {
  const inFlight = new InFlight({ goAwayGraceMs: 50 });
  inFlight.startDraining();
  const opened = h2Pipe(inFlight, 1);
  assert.deepEqual(opened.goAways, [MAX]);
  assert.equal(await inFlight.whenIdle(10), false, "drain did not wait for the new connection's grace");
  await opened.end;
  assert.deepEqual(opened.goAways, [MAX, 0]);
  assert.equal(opened.ended, true);
  inFlight.closePipe(1);
  assert.equal(await inFlight.whenIdle(10), true);
});

Deno.test("an h2 connection the client closes during its grace stops drain waiting for it", async () => {
  const inFlight = new InFlight({ goAwayGraceMs: 10_000 });
  const closedByClient = h2Pipe(inFlight, 1);
  inFlight.startDraining();
  const drained = inFlight.whenIdle(5_000);
  inFlight.closePipe(1);
  assert.equal(await drained, true);
  assert.deepEqual(closedByClient.goAways, [MAX]);
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
