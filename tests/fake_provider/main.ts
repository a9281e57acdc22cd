/**
 * Runs the fake provider on its own, for trying the gateway by hand or driving a benchmark from outside:
 *
 *   deno run -A --unstable-no-legacy-abort tests/fake_provider/main.ts [--port=19443] [--tls=CA_OUT.pem]
 *     [--answer=TEXT] [--delay-ms=N]
 *
 * With `--tls` it serves HTTPS and writes its throwaway CA to CA_OUT.pem (give that file to the gateway
 * as RECONDO_EXTRA_CA_CERTS). Prints one JSON line `{"url":…,"ca":…}` on stdout once listening, and a
 * summary of every request on stderr as it arrives. Stops on SIGINT/SIGTERM.
 * @module
 */
import { startFakeProvider } from "./mod.ts";
import { makeTestCertificate } from "./tls.ts";

function flag(name: string): string | undefined {
  const prefix = `--${name}=`;
  return Deno.args.find((arg) => arg.startsWith(prefix))?.slice(prefix.length);
}

if (import.meta.main) {
  const known = ["port", "tls", "answer", "delay-ms"];
  const unknown = Deno.args.filter((arg) => !known.some((name) => arg.startsWith(`--${name}=`)));
  if (unknown.length > 0) {
    console.error(
      `fake provider: unknown arguments ${unknown.join(" ")}; known: ${
        known.map((k) => `--${k}=…`).join(" ")
      }`,
    );
    Deno.exit(2);
  }
  const caOut = flag("tls");
  const material = caOut ? makeTestCertificate() : undefined;
  if (caOut && material) await Deno.writeTextFile(caOut, material.caCert);
  const fake = await startFakeProvider({
    port: Number(flag("port") ?? 0),
    tls: material ? { cert: material.cert, key: material.key } : undefined,
    behavior: { answer: flag("answer"), eventDelayMs: Number(flag("delay-ms") ?? 0) },
  });
  console.log(JSON.stringify({ url: fake.url, ca: caOut ?? null }));
  const timer = setInterval(() => {
    // Report and forget, so a long run does not accumulate request bodies.
    for (const r of fake.requests.splice(0)) {
      console.error(
        `${new Date(r.receivedAt).toISOString()} ${r.method} ${r.host} ${r.path} ${r.body.byteLength} B`,
      );
    }
  }, 200);
  const stop = async () => {
    clearInterval(timer);
    await fake.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}
