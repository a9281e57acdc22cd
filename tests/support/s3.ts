/**
 * A real S3-compatible server for tests: a one-node Ceph cluster (monitor, in-memory OSD, RADOS gateway)
 * from Debian's packages, with authentication off inside the cluster, S3 keys for one user, Object Lock
 * enforced for real (a locked object version cannot be deleted: 403), and RGW's `testing` KMS backend so
 * SSE-KMS puts with key id `testkey-1` work. Starts in ~10 s, ~130 MB RSS; share one per test file.
 * Daemons run in the foreground as children of the test process and are killed on close.
 * @example
 * const s3 = await startS3();
 * const bucket = await s3.createBucket({ objectLock: true });
 */
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { join } from "node:path";
import { freePort } from "./ports.ts";

/** A running gateway. */
export interface TestS3 {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** A key id the gateway's testing KMS knows. */
  kmsKeyId: string;
  /** Creates a uniquely named bucket and returns its name. */
  createBucket(options: { objectLock: boolean }): Promise<string>;
  /** An SDK client for direct checks (HEAD, versions, deletes). */
  client: S3Client;
  /** The AWS SDK's environment for reaching this server: endpoint, region and credentials. */
  sdkEnv: Record<string, string>;
  close(): Promise<void>;
  closeSync(): void;
}

/** Fails loudly, with the install command, unless Ceph is installed (never a silent skip). */
export function requireS3(): void {
  if (!s3Available()) {
    throw new Error(
      "Ceph (radosgw, ceph-mon) is missing: run bash scripts/install_test_services.sh (needs root; `deno task test` runs it before the tests)",
    );
  }
}

/** Whether the Ceph packages are installed (see scripts/install_test_services.sh). */
export function s3Available(): boolean {
  try {
    return Deno.statSync("/usr/bin/radosgw").isFile && Deno.statSync("/usr/bin/ceph-mon").isFile;
  } catch {
    return false;
  }
}

async function run(cmd: string, args: string[], what: string): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdin: "null" }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`Cannot ${what}: ${cmd} exited ${out.code}: ${text.slice(-1500)}`);
  return text;
}

function config(root: string, fsid: string, monPort: number, rgwPort: number): string {
  // 32-byte keys, base64, for the testing KMS backend.
  const key1 = btoa(String.fromCharCode(...new Uint8Array(32).fill(1)));
  const key2 = btoa(String.fromCharCode(...new Uint8Array(32).fill(2)));
  return `[global]
fsid = ${fsid}
mon host = [v2:127.0.0.1:${monPort}]
mon initial members = a
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
ms mon client mode = crc
ms client mode = crc
ms mon service mode = crc
ms service mode = crc
ms mon cluster mode = crc
ms cluster mode = crc
osd objectstore = memstore
memstore device bytes = 536870912
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
mon allow pool size one = true
mon max pg per osd = 1000
mon data avail crit = 1
osd crush chooseleaf type = 0
run dir = ${root}/run
admin socket = ${root}/run/$name.asok
log file = ${root}/log/$name.log
pid file = ${root}/run/$name.pid
mon data = ${root}/mon/$cluster-$id
osd data = ${root}/osd/$cluster-$id
keyring = ${root}/keyring
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:${rgwPort}
rgw crypt s3 kms backend = testing
rgw crypt s3 kms encryption keys = testkey-1=${key1} testkey-2=${key2}
rgw crypt require ssl = false
`;
}

/** Starts the cluster and the gateway; throws with the daemon logs' tail when something fails. */
export async function startS3(): Promise<TestS3> {
  const root = await Deno.makeTempDir({ prefix: "recondo-rgw-" });
  for (const d of ["mon", "osd/ceph-0", "run", "log"]) await Deno.mkdir(join(root, d), { recursive: true });
  const conf = join(root, "ceph.conf");
  const fsid = crypto.randomUUID();
  const monPort = freePort();
  const rgwPort = freePort();
  await Deno.writeTextFile(conf, config(root, fsid, monPort, rgwPort));
  const children: Deno.ChildProcess[] = [];
  const spawn = (cmd: string, args: string[]) => {
    children.push(new Deno.Command(cmd, { args, stdin: "null", stdout: "null", stderr: "null" }).spawn());
  };
  const closeSync = () => {
    for (const child of children.splice(0)) {
      try {
        child.kill("SIGKILL");
      } catch {
        // already exited
      }
    }
    try {
      Deno.removeSync(root, { recursive: true });
    } catch {
      // already gone
    }
  };
  const creds = { accessKeyId: "RECONDOTESTKEY", secretAccessKey: "recondo-test-secret" };
  const endpoint = `http://127.0.0.1:${rgwPort}`;
  try {
    await run("ceph-authtool", [
      "--create-keyring",
      join(root, "keyring"),
      "--gen-key",
      "-n",
      "mon.",
      "--cap",
      "mon",
      "allow *",
    ], "create keyring");
    await run("monmaptool", [
      "--create",
      "--addv",
      "a",
      `[v2:127.0.0.1:${monPort}]`,
      "--fsid",
      fsid,
      join(root, "monmap"),
    ], "create monmap");
    await run("ceph-mon", [
      "-c",
      conf,
      "--mkfs",
      "-i",
      "a",
      "--monmap",
      join(root, "monmap"),
      "--keyring",
      join(root, "keyring"),
    ], "mkfs mon");
    spawn("ceph-mon", ["-c", conf, "-i", "a", "-f"]);
    const id = (await run("ceph", ["-c", conf, "--connect-timeout", "30", "osd", "create"], "create osd"))
      .trim();
    if (id !== "0") throw new Error(`Expected OSD id 0, got "${id}"`);
    await run("ceph-osd", ["-c", conf, "-i", "0", "--mkfs"], "mkfs osd");
    spawn("ceph-osd", ["-c", conf, "-i", "0", "-f"]);
    spawn("radosgw", ["-c", conf, "-n", "client.rgw", "-f"]);
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        const res = await fetch(endpoint);
        await res.body?.cancel();
        if (res.ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`RADOS gateway did not answer on ${endpoint} within 60 s`);
      await new Promise((r) => setTimeout(r, 250));
    }
    await run("radosgw-admin", [
      "-c",
      conf,
      "-n",
      "client.admin",
      "user",
      "create",
      "--uid=recondo",
      "--display-name=recondo",
      `--access-key=${creds.accessKeyId}`,
      `--secret=${creds.secretAccessKey}`,
    ], "create S3 user");
  } catch (error) {
    let logs = "";
    for (const name of ["mon.a", "osd.0", "client.rgw"]) {
      try {
        logs += `\n--- ${name}\n` + (await Deno.readTextFile(join(root, "log", `${name}.log`))).slice(-800);
      } catch {
        // no log
      }
    }
    closeSync();
    throw new Error(`Cannot start Ceph RGW: ${(error as Error).message}${logs}`, { cause: error });
  }
  const client = new S3Client({
    region: "us-east-1",
    endpoint,
    forcePathStyle: true,
    credentials: creds,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  let buckets = 0;
  return {
    endpoint,
    region: "us-east-1",
    credentials: creds,
    kmsKeyId: "testkey-1",
    client,
    sdkEnv: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: creds.accessKeyId,
      AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
    },
    async createBucket({ objectLock }) {
      const name = `recondo-test-${++buckets}-${crypto.randomUUID().slice(0, 8)}`;
      await client.send(new CreateBucketCommand({ Bucket: name, ObjectLockEnabledForBucket: objectLock }));
      return name;
    },
    closeSync: () => {
      client.destroy();
      closeSync();
    },
    close: async () => {
      client.destroy();
      const exiting = children.map((c) => c.status);
      closeSync();
      await Promise.all(exiting);
    },
  };
}
