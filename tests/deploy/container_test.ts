/**
 * The container image (deploy/container/Dockerfile) built and run as a deployment would: the base image
 * from Debian's repository, the gateway image with everything inside, then the container on a read-only
 * root filesystem, as uid 10001, with the data dir on a volume, the fleet's CA and HMAC key mounted as
 * 0400 files, and an npm registry that cannot be reached (nothing may be fetched at run time). A real
 * request goes through its proxy to the fake Anthropic API over TLS; the HEALTHCHECK passes; SIGTERM
 * (`podman stop`) ends it with status 0. Needs root and podman (scripts/install_test_services.sh).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeTestCertificate } from "../fake_provider/tls.ts";
import { startFakeProvider } from "../fake_provider/mod.ts";
import { freePort } from "../support/ports.ts";
import { postMessages } from "../support/e2e.ts";
import { dataPaths } from "../../config/paths.ts";
import { loadOrCreateCa } from "../../proxy/tls/ca.ts";
import { loadOrCreateHmacKey } from "../../capture/credentials.ts";
import { buildImage, PODMAN_GLOBAL, PODMAN_RUN, removeContainer, sh, TEST_IMAGE } from "./podman.ts";

const UID = 10001;
const HOSTS = [
  "api.anthropic.com",
  "api.openai.com",
  "chatgpt.com",
  "generativelanguage.googleapis.com",
  "cloudcode-pa.googleapis.com",
];

/** Writes `text` as `mode`, owned by the image's user (as a k8s Secret volume with fsGroup would be). */
async function writeOwned(path: string, data: string | Uint8Array, mode: number): Promise<void> {
  if (typeof data === "string") await Deno.writeTextFile(path, data);
  else await Deno.writeFile(path, data);
  await Deno.chmod(path, mode);
  await Deno.chown(path, UID, UID);
}

Deno.test({
  name: "the gateway image serves a proxied request from a read-only container and exits 0 on SIGTERM",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const times = await buildImage();
    console.log(
      `container_test: base image ${times.baseSeconds.toFixed(1)} s, gateway image ${
        times.imageSeconds.toFixed(1)
      } s`,
    );

    const upstreamTls = makeTestCertificate();
    const fake = await startFakeProvider({ tls: { cert: upstreamTls.cert, key: upstreamTls.key } });
    const root = await Deno.makeTempDir({ prefix: "recondo-container-" });
    const data = join(root, "data");
    const secrets = join(root, "secrets");
    await Deno.mkdir(data);
    await Deno.mkdir(secrets);
    await Deno.chown(data, UID, UID);
    await Deno.chmod(data, 0o700);
    // The fleet's secrets, made once by whoever operates the fleet, outside the data dir: the gateway must
    // read them through the RECONDO_*_FILE variables (checked below: it creates no CA of its own).
    const paths = dataPaths(join(root, "operator"), { get: () => undefined });
    const ca = await loadOrCreateCa(paths, { domains: HOSTS });
    const hmac = await loadOrCreateHmacKey(paths.secretKey);
    const caCert = await Deno.readTextFile(ca.certPath);
    await writeOwned(join(secrets, "ca.crt"), caCert, 0o444);
    await writeOwned(join(secrets, "ca.key"), await Deno.readTextFile(paths.caKey), 0o400);
    await writeOwned(join(secrets, "hmac.key"), hmac, 0o400);
    await writeOwned(join(secrets, "upstream-ca.pem"), upstreamTls.caCert, 0o444);
    await sh("chown", ["-R", `${UID}:${UID}`, data]);

    const port = freePort();
    const name = `recondo-container-test-${crypto.randomUUID().slice(0, 8)}`;
    const env = {
      RECONDO_LISTEN: `127.0.0.1:${port}`,
      RECONDO_CA_CERT_FILE: "/run/secrets/recondo/ca.crt",
      RECONDO_CA_KEY_FILE: "/run/secrets/recondo/ca.key",
      RECONDO_HMAC_KEY_FILE: "/run/secrets/recondo/hmac.key",
      RECONDO_GATEWAY_ID: name,
      RECONDO_EXTRA_CA_CERTS: "/run/secrets/recondo/upstream-ca.pem",
      RECONDO_UPSTREAM_OVERRIDE: `api.anthropic.com=${fake.url}`,
      // Any npm fetch at run time would go here and fail (the entrypoint also runs with --cached-only).
      NPM_CONFIG_REGISTRY: "http://127.0.0.1:9",
      RECONDO_LOG: "info",
    };
    const child = new Deno.Command("podman", {
      args: [
        ...PODMAN_GLOBAL,
        "run",
        "--rm",
        ...PODMAN_RUN,
        "--name",
        name,
        "--read-only",
        "--tmpfs",
        "/tmp",
        "-v",
        `${data}:/var/lib/recondo`,
        "-v",
        `${secrets}:/run/secrets/recondo:ro`,
        ...Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
        TEST_IMAGE,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const output = Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()]);
    let exited = false;
    const status = child.status.then((s) => {
      exited = true;
      return s;
    });
    try {
      const deadline = Date.now() + 60_000;
      for (;;) {
        if (exited) {
          throw new Error(`The container exited before /healthz answered:\n${(await output).join("\n")}`);
        }
        const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(async (r) => {
          await r.body?.cancel();
          return r.status === 200;
        }, () => false);
        if (ok) break;
        assert.ok(Date.now() < deadline, "/healthz did not answer within 60 s");
        await new Promise((r) => setTimeout(r, 200));
      }

      const client = Deno.createHttpClient({ caCerts: [caCert], proxy: { url: `http://127.0.0.1:${port}` } });
      const res = await postMessages(client, {
        maxTokens: 64,
        content: "hello from the container test",
        headers: { "x-api-key": "sk-ant-api03-container-test" },
      });
      const body = await res.text();
      client.close();
      assert.equal(res.status, 200, body);
      assert.match(body, /RECONDO-FAKE-OK/);
      assert.equal(fake.requests.filter((r) => r.path.startsWith("/v1/messages")).length, 1);

      // The image's HEALTHCHECK command, run on demand (no systemd here to schedule it).
      await sh("podman", [...PODMAN_GLOBAL, "healthcheck", "run", name]);
      // The CA and keys came from the mounted files: the gateway made none in its data dir.
      for (const made of ["ca/ca.crt", "ca/ca.key", "keys/hmac.key"]) {
        assert.equal(
          await Deno.stat(join(data, made)).then(() => true, () => false),
          false,
          `${made} was created`,
        );
      }
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      assert.equal(ready.status, 200, await ready.text());
      // Capture wrote its journal on the volume, not inside the container.
      assert.ok((await Deno.stat(join(data, "journal"))).isDirectory, "no journal/ in the data dir volume");

      const stopping = performance.now();
      await sh("podman", [...PODMAN_GLOBAL, "stop", "-t", "30", name]);
      const s = await status;
      const [stdout, stderr] = await output;
      assert.equal(s.code, 0, `exit ${s.code}:\n${stdout}\n${stderr.slice(-3000)}`);
      console.log(`container_test: stopped with status 0 in ${Math.round(performance.now() - stopping)} ms`);
      assert.doesNotMatch(stderr, /ui\.bundle_built|ui\.bundle_failed/, "the UI bundle was not prebuilt");
    } finally {
      if (!exited) await removeContainer(name);
      await status;
      await fake.close();
      await Deno.remove(root, { recursive: true });
    }
  },
});
