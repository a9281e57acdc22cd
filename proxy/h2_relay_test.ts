import assert from "node:assert/strict";
import net from "node:net";
import { Buffer } from "node:buffer";
import { goAwayFrame } from "./h2_frames.ts";
import { relayH2 } from "./h2_relay.ts";

const SANITIZE = { sanitizeResources: false, sanitizeOps: false };

/** A frame of `length` payload bytes, all `fill`. */
function frame(type: number, streamId: number, length: number, fill = 0xaa): Buffer {
  const bytes = Buffer.alloc(9 + length, fill);
  bytes.writeUIntBE(length, 0, 3);
  bytes[3] = type;
  bytes[4] = 0;
  bytes.writeUInt32BE(streamId, 5);
  return bytes;
}

/** Three connected sockets through the relay: the test's client, the relay, the test's inner server. */
async function relayed() {
  const accepted = (server: net.Server) =>
    new Promise<net.Socket>((resolve) => {
      server.once("connection", resolve);
      server.listen(0, "127.0.0.1");
    });
  const frontServer = net.createServer();
  const innerServer = net.createServer();
  const frontAccepted = accepted(frontServer);
  const innerAccepted = accepted(innerServer);
  await new Promise((resolve) => setTimeout(resolve, 0));
  const client = net.connect((frontServer.address() as net.AddressInfo).port, "127.0.0.1");
  const inner = net.connect((innerServer.address() as net.AddressInfo).port, "127.0.0.1");
  const [front, innerSide] = await Promise.all([frontAccepted, innerAccepted]);
  const relay = relayH2(front, inner);
  const received: Buffer[] = [];
  client.on("data", (chunk: Buffer) => received.push(chunk));
  const receivedBytes = async (length: number) => {
    while (Buffer.concat(received).length < length) await new Promise((resolve) => setTimeout(resolve, 5));
    return Buffer.concat(received);
  };
  const close = () => {
    for (const socket of [client, inner, front, innerSide]) socket.destroy();
    frontServer.close();
    innerServer.close();
  };
  return { client, inner, innerSide, relay, receivedBytes, close };
}

Deno.test({
  name: "a GOAWAY asked for inside a frame goes out after that frame, and the bytes around it are unchanged",
  ...SANITIZE,
  async fn() {
    const { innerSide, relay, receivedBytes, close } = await relayed();
    try {
      const settings = frame(0x4, 0, 6);
      const data = frame(0x0, 1, 100, 0xbb);
      const ping = frame(0x6, 0, 8, 0xcc);
      innerSide.write(Buffer.concat([settings, data.subarray(0, 50)]));
      await receivedBytes(settings.length + 50);
      relay.goAway(7);
      innerSide.write(Buffer.concat([data.subarray(50), ping]));
      const all = await receivedBytes(settings.length + data.length + 17 + ping.length);
      assert.deepEqual(all, Buffer.concat([settings, data, goAwayFrame(7), ping]));
      relay.goAway(3);
      const after = await receivedBytes(all.length + 17);
      assert.deepEqual(after.subarray(all.length), Buffer.from(goAwayFrame(3)), "at a boundary: at once");
    } finally {
      close();
    }
  },
});

Deno.test({
  name: "a slow client pauses the inner server's side and still gets every byte in order",
  ...SANITIZE,
  async fn() {
    const { client, inner, innerSide, relay, receivedBytes, close } = await relayed();
    try {
      client.pause();
      const frames = Array.from({ length: 400 }, (_, i) => frame(0x0, 1, 16_384, i % 251));
      const sent = Buffer.concat([frame(0x4, 0, 0), ...frames]);
      innerSide.write(sent);
      for (let i = 0; i < 400 && !inner.isPaused(); i++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      assert.equal(inner.isPaused(), true, "the relay kept reading while the client took nothing");
      relay.goAway(1);
      client.resume();
      const all = await receivedBytes(sent.length + 17);
      assert.equal(all.length, sent.length + 17);
      // The GOAWAY sits between two frames; without it the stream is what the inner server sent.
      const at = all.indexOf(Buffer.from(goAwayFrame(1)));
      assert.ok(at > 0 && (at - 9) % (9 + 16_384) === 0, `GOAWAY at byte ${at}, not at a frame boundary`);
      assert.deepEqual(Buffer.concat([all.subarray(0, at), all.subarray(at + 17)]), sent);
    } finally {
      close();
    }
  },
});

Deno.test({
  name: "the relay tells the highest stream the client opened with HEADERS",
  ...SANITIZE,
  async fn() {
    const { client, relay, close } = await relayed();
    try {
      assert.deepEqual(relay.lastStream().id, 0);
      client.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
      client.write(Buffer.concat([frame(0x4, 0, 0), frame(0x1, 1, 10), frame(0x1, 3, 10), frame(0x0, 5, 4)]));
      while (relay.lastStream().id !== 3) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.ok(relay.lastStream().at <= performance.now());
    } finally {
      close();
    }
  },
});
