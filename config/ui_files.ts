/**
 * The UI's secrets, read from files at start: the HTTPS certificate and key, the OIDC client secret and an
 * optional CA for the provider. The environment names them like the fleet's other secrets
 * (`RECONDO_UI_TLS_CERT_FILE`, `RECONDO_UI_TLS_KEY_FILE`, `RECONDO_UI_OIDC_CLIENT_SECRET_FILE`) and wins
 * over `ui.tls.*` and `ui.oidc.clientSecretFile`; the key and the client secret must not be readable by
 * group or others.
 * @module
 */
import { checkSecretFile } from "./secret_files.ts";
import type { UiConfig, UiOidcConfig } from "./ui_schema.ts";

/** The environment variables and what each one names. */
export const UI_SECRET_FILE_VARS = {
  certFile: "RECONDO_UI_TLS_CERT_FILE",
  keyFile: "RECONDO_UI_TLS_KEY_FILE",
  clientSecretFile: "RECONDO_UI_OIDC_CLIENT_SECRET_FILE",
} as const;

type Env = { get(name: string): string | undefined };

/** The UI's settings with every secret read: what `serve` hands to the UI and its listener. */
export interface UiSecrets {
  /** PEM certificate and key for HTTPS, or `null` for plain HTTP (loopback only). */
  tls: { cert: string; key: string } | null;
  /** Single sign-on, or `null` when `ui.oidc` is not configured. */
  oidc: (UiOidcConfig & { clientSecret: string | null; issuerCa: string | null }) | null;
}

/** Checks and reads the files `ui` (and the environment) names; throws naming the setting at fault. */
export async function loadUiSecrets(ui: UiConfig, env: Env): Promise<UiSecrets> {
  const certFile = env.get(UI_SECRET_FILE_VARS.certFile) ?? ui.tls?.certFile;
  const keyFile = env.get(UI_SECRET_FILE_VARS.keyFile) ?? ui.tls?.keyFile;
  let tls: UiSecrets["tls"] = null;
  if (certFile || keyFile) {
    if (!certFile || !keyFile) {
      throw new Error(
        `HTTPS for the UI needs both a certificate and a key: set ui.tls.certFile and ui.tls.keyFile (or ${UI_SECRET_FILE_VARS.certFile} and ${UI_SECRET_FILE_VARS.keyFile}); only the ${
          certFile ? "certificate" : "key"
        } is set`,
      );
    }
    await checkSecretFile(label(env, "certFile", "ui.tls.certFile"), certFile, { key: false });
    await checkSecretFile(label(env, "keyFile", "ui.tls.keyFile"), keyFile, { key: true });
    tls = { cert: await Deno.readTextFile(certFile), key: await Deno.readTextFile(keyFile) };
  }
  if (!ui.oidc) return { tls, oidc: null };
  const secretFile = env.get(UI_SECRET_FILE_VARS.clientSecretFile) ?? ui.oidc.clientSecretFile;
  let clientSecret: string | null = null;
  if (secretFile) {
    await checkSecretFile(label(env, "clientSecretFile", "ui.oidc.clientSecretFile"), secretFile, {
      key: true,
    });
    clientSecret = (await Deno.readTextFile(secretFile)).split(/\r?\n/)[0];
    if (!clientSecret) throw new Error(`The OIDC client secret file ${secretFile} is empty`);
  }
  let issuerCa: string | null = null;
  if (ui.oidc.issuerCaFile) {
    await checkSecretFile("ui.oidc.issuerCaFile", ui.oidc.issuerCaFile, { key: false });
    issuerCa = await Deno.readTextFile(ui.oidc.issuerCaFile);
  }
  return { tls, oidc: { ...ui.oidc, clientSecret, issuerCa } };
}

function label(env: Env, field: keyof typeof UI_SECRET_FILE_VARS, configKey: string): string {
  return env.get(UI_SECRET_FILE_VARS[field]) ? UI_SECRET_FILE_VARS[field] : configKey;
}
