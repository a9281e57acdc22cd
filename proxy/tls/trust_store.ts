/**
 * Adding the Recondo CA to (and removing it from) the operating system's trust store, for tools that read
 * it: curl, Python, and Codex on Linux. Node-based agents (Claude Code, Gemini CLI) ignore the system store
 * and still need `NODE_EXTRA_CA_CERTS`.
 *
 * Supported: Debian/Ubuntu (`update-ca-certificates`) and Fedora/RHEL (`update-ca-trust`). Elsewhere the
 * error says what to run by hand.
 * @module
 */
import { join } from "node:path";

/** A system trust store we know how to update. */
export interface TrustStore {
  /** Human name, e.g. "Debian ca-certificates". */
  name: string;
  /** Where the certificate file goes. */
  path: string;
  /** The command (absolute path first) that rebuilds the store after adding a certificate. */
  refresh: string[];
  /** The same after removing one. */
  refreshAfterRemove: string[];
}

const STORES = [
  {
    name: "Debian ca-certificates",
    dir: "/usr/local/share/ca-certificates",
    file: "recondo.crt",
    tool: "update-ca-certificates",
    args: [],
    // Debian drops the /etc/ssl/certs links of a deleted local certificate only on a fresh rebuild.
    removeArgs: ["--fresh"],
  },
  {
    name: "Fedora/RHEL ca-trust",
    dir: "/etc/pki/ca-trust/source/anchors",
    file: "recondo.crt",
    tool: "update-ca-trust",
    args: ["extract"],
    removeArgs: ["extract"],
  },
];

/** Finds this machine's trust store, or explains why there is none we can manage. */
export function detectTrustStore(): TrustStore {
  if (Deno.build.os === "linux") {
    for (const store of STORES) {
      const tool = findExecutable(store.tool);
      if (tool && isDirectory(store.dir)) {
        return {
          name: store.name,
          path: join(store.dir, store.file),
          refresh: [tool, ...store.args],
          refreshAfterRemove: [tool, ...store.removeArgs],
        };
      }
    }
  }
  const manual = Deno.build.os === "darwin"
    ? "sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain <ca.crt>"
    : "add <ca.crt> to your system's trusted roots";
  throw new Error(
    `Cannot find a supported system trust store on this ${Deno.build.os} machine (looked for ` +
      `update-ca-certificates and update-ca-trust); to trust the CA system-wide, run: ${manual}`,
  );
}

/** Writes the CA into `store` and rebuilds it. Throws with the fix (run as root) when not permitted. */
export async function installIntoTrustStore(certPem: string, store: TrustStore): Promise<void> {
  try {
    await Deno.writeTextFile(store.path, certPem, { mode: 0o644 });
  } catch (error) {
    throw permissionHint(`write ${store.path}`, error);
  }
  await refresh(store.name, store.refresh);
}

/** Removes the CA from `store`; returns false when it was not installed there. */
export async function removeFromTrustStore(store: TrustStore): Promise<boolean> {
  try {
    await Deno.remove(store.path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw permissionHint(`remove ${store.path}`, error);
  }
  await refresh(store.name, store.refreshAfterRemove);
  return true;
}

async function refresh(name: string, commandLine: string[]): Promise<void> {
  const [command, ...args] = commandLine;
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" }).output();
  } catch (error) {
    throw permissionHint(`run ${commandLine.join(" ")}`, error);
  }
  if (!output.success) {
    const stderr = new TextDecoder().decode(output.stderr).trim();
    throw new Error(
      `Cannot update the ${name} store: ${commandLine.join(" ")} exited ${output.code}: ${stderr}`,
    );
  }
}

function permissionHint(action: string, error: unknown): Error {
  const denied = error instanceof Deno.errors.PermissionDenied;
  const hint = denied
    ? "permission denied; run the command as root (sudo), keeping RECONDO_DATA_DIR if you set it"
    : (error as Error).message;
  return new Error(`Cannot ${action}: ${hint}`, { cause: error });
}

function findExecutable(name: string): string | null {
  // /usr/sbin is often missing from a normal user's PATH, yet that is where these tools live.
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":"), "/usr/sbin", "/sbin", "/usr/bin"];
  for (const dir of dirs.filter(Boolean)) {
    try {
      const info = Deno.statSync(join(dir, name));
      if (info.isFile && ((info.mode ?? 0) & 0o111) !== 0) return join(dir, name);
    } catch {
      // not in this directory: keep looking
    }
  }
  return null;
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}
