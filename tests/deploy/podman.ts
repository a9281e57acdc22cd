/**
 * Podman as this sandbox allows it (see deploy/container/Dockerfile): the base image from Debian's
 * repository (deploy/container/build_base.sh, tarball cached in `.cache/deploy/`), builds with
 * `--isolation chroot --network host`, runs with runc, cgroupfs and explicit rlimits (the defaults exceed
 * the sandbox's hard limits). Shared by the deployment tests.
 * @module
 */
const ROOT = new URL("../../", import.meta.url).pathname;

/** The flags every `podman … run` needs here; put them before and after `run` as shown. */
export const PODMAN_GLOBAL = ["--runtime", "runc", "--cgroup-manager=cgroupfs"];
export const PODMAN_RUN = [
  "--network",
  "host",
  "--ulimit",
  "nofile=20000:20000",
  "--ulimit",
  "nproc=4096:4096",
];

/** The image the deployment tests build and run. */
export const TEST_IMAGE = "localhost/recondo:deploy-test";

/** Runs a command to its end; throws with its output's tail when it fails. */
export async function sh(cmd: string, args: string[], options: { cwd?: string } = {}): Promise<string> {
  const out = await new Deno.Command(cmd, { args, cwd: options.cwd ?? ROOT, stdin: "null" }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} exited ${out.code}:\n${text.slice(-3000)}`);
  }
  return text;
}

/** Builds (or reuses) the Debian base image, then builds the gateway image; returns the seconds each took. */
export async function buildImage(): Promise<{ baseSeconds: number; imageSeconds: number }> {
  let started = performance.now();
  await sh("bash", [`${ROOT}deploy/container/build_base.sh`]);
  const baseSeconds = (performance.now() - started) / 1000;
  started = performance.now();
  const args = [
    "build",
    "--format",
    "docker",
    "--isolation",
    "chroot",
    "--network",
    "host",
    "--quiet",
    "-f",
    "deploy/container/Dockerfile",
    "-t",
    TEST_IMAGE,
  ];
  // The machine's CA bundle, for networks that inspect TLS on the way to the npm registry.
  const bundle = "/etc/ssl/certs/ca-certificates.crt";
  if (await Deno.stat(bundle).then(() => true, () => false)) {
    args.push("--secret", `id=build_ca,src=${bundle}`);
  }
  await sh("podman", [...args, "."]);
  return { baseSeconds, imageSeconds: (performance.now() - started) / 1000 };
}

/** Removes a container if it exists (after a failed test). */
export async function removeContainer(name: string): Promise<void> {
  await new Deno.Command("podman", { args: ["rm", "-f", "-t", "0", name], stdout: "null", stderr: "null" })
    .output();
}
