/**
 * `recondo init` and `recondo ca …`: create, inspect, export, trust and rotate the certificate authority
 * that Recondo signs intercepted hosts' certificates with (see `proxy/tls/ca.ts`).
 *
 * The intercept list comes from the validated config (`config/load.ts`): the CA is constrained to it, so
 * adding a host there means running `recondo ca rotate` and trusting the new certificate.
 * @module
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from "./yargs.ts";
import { configPath, loadConfig } from "../config/load.ts";
import { dataDir, dataPaths } from "../config/paths.ts";
import { type Config, interceptEntries } from "../config/schema.ts";
import { permittedNamesFor } from "../config/host_patterns.ts";
import { type CertificateAuthority, loadOrCreateCa, notPermittedMessage, rotateCa } from "../proxy/tls/ca.ts";
import { type CaDescription, describeCa } from "../proxy/tls/ca_info.ts";
import { domainsPermit } from "../proxy/tls/name_constraints.ts";
import { detectTrustStore, installIntoTrustStore, removeFromTrustStore } from "../proxy/tls/trust_store.ts";

interface ConfigArgs {
  config?: string;
}
interface ShowArgs extends ConfigArgs {
  json: boolean;
}
interface ExportArgs {
  file?: string;
}

const configOption = {
  type: "string",
  describe:
    "Config file whose intercept list the CA covers (env RECONDO_CONFIG; default <data dir>/recondo.json)",
} as const;

/** `recondo init`: creates the data directory and the CA, then prints how to point agents at Recondo. */
export const initCommand: CommandModule<object, ConfigArgs> = {
  command: "init",
  describe: "Create the data directory and the CA (if missing) and print the settings for your agents",
  builder: (y) => y.option("config", configOption),
  async handler(args) {
    const paths = dataPaths(dataDir());
    const existed = await exists(paths.caCert);
    const config = await loadConfig(args.config ?? configPath());
    const hosts = interceptHosts(config);
    const ca = await loadOrCreateCa(paths, { domains: hosts });
    console.log(`${existed ? "Using the existing" : "Created a new"} Recondo CA: ${ca.certPath}`);
    console.log(`  SHA-256 ${ca.fingerprint}`);
    console.log(`  limited by name constraints to: ${ca.domains.join(", ")}`);
    warnUncovered(ca, hosts);
    const proxy = `http://${clientAddress(config.listen)}`;
    console.log(`\nStart the gateway with 'deno task serve', then in the agent's shell:`);
    console.log(`  export HTTPS_PROXY=${proxy}`);
    console.log(`  export NODE_EXTRA_CA_CERTS=${ca.certPath}   # Claude Code, Gemini CLI`);
    console.log(`  export CODEX_CA_CERTIFICATE=${ca.certPath}  # Codex`);
  },
};

const showCommand: CommandModule<object, ShowArgs> = {
  command: "show",
  describe: "Print the CA's fingerprint, subject, validity and name constraints",
  builder: (y) =>
    y.option("json", { type: "boolean", default: false, describe: "Print one JSON object" }).option(
      "config",
      configOption,
    ),
  async handler(args) {
    const paths = dataPaths(dataDir());
    const pem = await readCaCert(paths.caCert);
    const hosts = interceptHosts(await loadConfig(args.config ?? configPath()));
    const info = describeCa(pem);
    const uncovered = info.constraints
      ? hosts.filter((h) =>
        !permittedNamesFor(h).every((name) => domainsPermit(info.constraints!.permittedDns, name))
      )
      : [];
    const keyMode = await fileMode(paths.caKey);
    if (args.json) {
      console.log(
        JSON.stringify(
          { certPath: paths.caCert, keyPath: paths.caKey, keyMode, ...info, uncovered },
          null,
          2,
        ),
      );
      return;
    }
    printDescription(paths.caCert, info);
    console.log(`Key          ${paths.caKey} (mode ${keyMode ?? "unknown"})`);
    if (uncovered.length > 0) {
      console.log(
        `\nWarning: ${notPermittedMessage({ domains: info.constraints!.permittedDns }, uncovered)}`,
      );
    }
  },
};

const exportCommand: CommandModule<object, ExportArgs> = {
  command: "export [file]",
  describe: "Write the CA certificate (PEM) to [file], or to stdout when it is '-' or left out",
  builder: (y) =>
    y.positional("file", { type: "string", describe: "Destination path; '-' or none for stdout" }),
  async handler(args) {
    const pem = await readCaCert(dataPaths(dataDir()).caCert);
    // yargs turns a lone "-" into an empty string.
    if (!args.file || args.file === "-") {
      await Deno.stdout.write(new TextEncoder().encode(pem));
      return;
    }
    await Deno.writeTextFile(args.file, pem, { mode: 0o644 });
    console.log(`Wrote the Recondo CA certificate to ${args.file}`);
  },
};

const installCommand: CommandModule<object, object> = {
  command: "install",
  describe: "Add the CA to the system trust store (needs root; Debian/Ubuntu and Fedora/RHEL)",
  async handler() {
    const pem = await readCaCert(dataPaths(dataDir()).caCert);
    const store = detectTrustStore();
    await installIntoTrustStore(pem, store);
    console.log(`Installed the Recondo CA into the ${store.name} store (${store.path}).`);
    console.log("Node-based agents (Claude Code, Gemini CLI) still need NODE_EXTRA_CA_CERTS.");
  },
};

const revokeCommand: CommandModule<object, object> = {
  command: "revoke",
  describe: "Remove the CA from the system trust store (needs root)",
  async handler() {
    const store = detectTrustStore();
    const removed = await removeFromTrustStore(store);
    console.log(
      removed
        ? `Removed the Recondo CA from the ${store.name} store (${store.path}).`
        : `The Recondo CA was not in the ${store.name} store (${store.path}); nothing to do.`,
    );
  },
};

const rotateCommand: CommandModule<object, ConfigArgs> = {
  command: "rotate",
  describe: "Issue a new CA for the current intercept list (clients must then trust the new certificate)",
  builder: (y) => y.option("config", configOption),
  async handler(args) {
    const paths = dataPaths(dataDir());
    const hosts = interceptHosts(await loadConfig(args.config ?? configPath()));
    const old = (await exists(paths.caCert)) ? describeCa(await readCaCert(paths.caCert)) : null;
    const ca = await rotateCa(paths, { domains: hosts });
    if (old) console.log(`Replaced the CA with SHA-256 ${old.fingerprintSha256}.`);
    printDescription(ca.certPath, describeCa(ca.certPem));
    console.log(
      `\nEvery client must now trust the new certificate ${ca.certPath}: restart agents that read ` +
        `NODE_EXTRA_CA_CERTS / CODEX_CA_CERTIFICATE, re-run 'recondo ca install' if you installed the old ` +
        `one system-wide, re-export copies made with 'recondo ca export', and restart 'recondo serve'.`,
    );
  },
};

/** `recondo ca <show|export|install|revoke|rotate>`. */
export const caCommand: CommandModule<object, object> = {
  command: "ca",
  describe: "Show, export, trust or rotate the Recondo certificate authority",
  builder: (y: Argv<object>) =>
    y.command(showCommand).command(exportCommand).command(installCommand).command(revokeCommand)
      .command(rotateCommand).demandCommand(1, "Name a ca command; `recondo ca --help` lists them."),
  handler: (_args: ArgumentsCamelCase<object>) => {},
};

/** The CA's domains: the provider defaults plus the config's `intercept` list. */
function interceptHosts(config: Pick<Config, "intercept">): string[] {
  return interceptEntries(config);
}

/** The address a local agent should use for a listen address like `0.0.0.0:8443`. */
function clientAddress(listen: string): string {
  const at = listen.lastIndexOf(":");
  const host = listen.slice(0, at);
  const wildcard = host === "" || host === "0.0.0.0" || host === "[::]" || host === "::";
  return `${wildcard ? "127.0.0.1" : host}:${listen.slice(at + 1)}`;
}

function printDescription(certPath: string, info: CaDescription): void {
  console.log(`Certificate  ${certPath}`);
  console.log(`Subject      ${info.subject}`);
  console.log(`SHA-256      ${info.fingerprintSha256}`);
  console.log(`Valid        ${info.notBefore} to ${info.notAfter} (${info.daysLeft} days left)`);
  if (!info.constraints) {
    console.log("Constraints  NONE: this CA can sign for any site; run 'recondo ca rotate'");
    return;
  }
  const critical = info.constraints.critical ? "critical" : "NOT critical";
  console.log(`Permitted    ${info.constraints.permittedDns.join(", ")} (and names below them; ${critical})`);
  console.log(`Excluded     ${info.constraints.excludedIp.join(", ")} (IP addresses)`);
}

async function readCaCert(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(`No Recondo CA at ${path}; create it with 'recondo init'`, { cause: error });
    }
    throw error;
  }
}

function warnUncovered(ca: CertificateAuthority, hosts: string[]): void {
  const uncovered = ca.notPermitted(hosts);
  if (uncovered.length > 0) console.log(`\nWarning: ${notPermittedMessage(ca, uncovered)}`);
}

async function exists(path: string): Promise<boolean> {
  return (await fileMode(path)) !== null;
}

async function fileMode(path: string): Promise<string | null> {
  try {
    const { mode } = await Deno.stat(path);
    return mode === null ? "n/a" : `0${(mode & 0o777).toString(8)}`;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}
