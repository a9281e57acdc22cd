import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Runs `recondo …` as a real process against its own data directory. */
async function recondo(dataDir: string, ...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--unstable-no-legacy-abort", "main.ts", ...args],
    cwd: ROOT,
    // Pin everything the commands read from the environment, whatever the caller has set.
    env: {
      RECONDO_DATA_DIR: dataDir,
      RECONDO_CONFIG: `${dataDir}/recondo.json`,
      RECONDO_LISTEN: "",
      RECONDO_LOG: "silent",
      NO_COLOR: "1",
    },
    clearEnv: false,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

async function opensslFingerprint(file: string): Promise<string> {
  const out = await new Deno.Command("openssl", {
    args: ["x509", "-in", file, "-noout", "-fingerprint", "-sha256"],
    stdout: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout).trim().split("=")[1];
}

Deno.test("recondo init, ca show, ca export and ca rotate work on a fresh data directory", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "recondo_cli_ca_" });
  const caCert = `${dir}/ca/ca.crt`;
  try {
    await t.step("ca show before init says to run init", async () => {
      const run = await recondo(dir, "ca", "show");
      assert.equal(run.code, 1);
      assert.match(run.stderr, /No Recondo CA at .*ca\.crt; create it with 'recondo init'/);
    });

    await t.step("init creates the CA and prints the settings for each agent", async () => {
      const run = await recondo(dir, "init");
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`Created a new Recondo CA: ${caCert}`));
      assert.match(run.stdout, /export HTTPS_PROXY=http:\/\/127\.0\.0\.1:8443/);
      assert.match(run.stdout, new RegExp(`export NODE_EXTRA_CA_CERTS=${caCert}`));
      assert.match(run.stdout, new RegExp(`export CODEX_CA_CERTIFICATE=${caCert}`));
      assert.equal((await Deno.stat(`${dir}/ca/ca.key`)).mode! & 0o777, 0o600);
    });

    await t.step("ca show --json reports the fingerprint openssl computes and the constraints", async () => {
      const run = await recondo(dir, "ca", "show", "--json");
      assert.equal(run.code, 0, run.stderr);
      const shown = JSON.parse(run.stdout);
      assert.equal(shown.fingerprintSha256, await opensslFingerprint(caCert));
      assert.equal(shown.keyMode, "0600");
      assert.equal(shown.constraints.critical, true);
      assert.ok(shown.constraints.permittedDns.includes("api.anthropic.com"));
      assert.deepEqual(shown.constraints.excludedIp, ["0.0.0.0/0", "::/0"]);
      assert.deepEqual(shown.uncovered, []);
    });

    await t.step("ca export writes the same PEM", async () => {
      const run = await recondo(dir, "ca", "export", `${dir}/exported.pem`);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(await Deno.readTextFile(`${dir}/exported.pem`), await Deno.readTextFile(caCert));
    });

    await t.step("a newly intercepted host is flagged, and rotate re-issues the CA to cover it", async () => {
      await Deno.writeTextFile(
        `${dir}/recondo.json`,
        JSON.stringify({ intercept: ["llm.corp.example.com"] }),
      );
      const before = await opensslFingerprint(caCert);
      const show = await recondo(dir, "ca", "show");
      assert.match(show.stdout, /does not cover "llm\.corp\.example\.com".*recondo ca rotate/);
      const rotate = await recondo(dir, "ca", "rotate");
      assert.equal(rotate.code, 0, rotate.stderr);
      assert.match(rotate.stdout, new RegExp(`Replaced the CA with SHA-256 ${before}`));
      assert.match(rotate.stdout, /Permitted .*llm\.corp\.example\.com/);
      assert.match(rotate.stdout, /Every client must now trust the new certificate/);
      assert.notEqual(await opensslFingerprint(caCert), before);
      const json = JSON.parse((await recondo(dir, "ca", "show", "--json")).stdout);
      assert.deepEqual(json.uncovered, []);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
