/**
 * The `ui` section of `recondo.json`: where the web UI listens on its own, HTTPS (certificate and key as
 * files, like the fleet's other secrets) and OpenID Connect single sign-on. Secrets are never values here:
 * the key and the client secret are named as files (or by `RECONDO_UI_*_FILE`, see `config/ui_files.ts`).
 * @example
 * { "ui": { "listen": "0.0.0.0:8444",
 *           "tls": { "certFile": "/run/secrets/ui.crt", "keyFile": "/run/secrets/ui.key" },
 *           "oidc": { "issuer": "https://sso.example.com/realms/eng", "clientId": "recondo",
 *                     "clientSecretFile": "/run/secrets/oidc-secret",
 *                     "redirectUrl": "https://recondo.example.com:8444/sso/callback",
 *                     "adminGroups": ["platform"], "viewerGroups": ["finops"] } } }
 * @module
 */
import { z } from "zod";

const filePath = z.string().min(1, "must name a file");

/** HTTPS for the UI's own listener. */
export const uiTlsSchema = z.object({
  /** PEM certificate chain the UI presents. */
  certFile: filePath,
  /** PEM private key; must not be readable by group or others. */
  keyFile: filePath,
});

/** `https://…`, or `http://` on a loopback host (a provider or UI on the same machine). */
const webUrl = z.string().url("must be a URL such as https://sso.example.com").refine((value) => {
  if (!URL.canParse(value)) return true; // reported by .url() (zod runs the refinement anyway)
  const url = new URL(value);
  return url.protocol === "https:" || (url.protocol === "http:" && isLoopbackHost(url.hostname));
}, "must be an https:// URL (http:// only on a loopback host)");

/** OpenID Connect single sign-on (authorization code + PKCE). */
export const uiOidcSchema = z.object({
  /** The provider's issuer URL; its `/.well-known/openid-configuration` is read at the first login. */
  issuer: webUrl,
  clientId: z.string().min(1, "must be the client id registered at the provider"),
  /** File holding the client secret (first line); omit for a public client (PKCE only). */
  clientSecretFile: filePath.optional(),
  /** This UI's callback as registered at the provider: `https://<ui host>/sso/callback`. */
  redirectUrl: webUrl.refine(
    (value) => !URL.canParse(value) || new URL(value).pathname === "/sso/callback",
    "must end in /sso/callback, e.g. https://recondo.example.com:8444/sso/callback",
  ),
  /** Scopes asked for; the groups claim must come back in the ID token. */
  scopes: z.array(z.string().min(1)).min(1).default(["openid", "profile", "email"]).refine(
    (scopes) => scopes.includes("openid"),
    "must include openid",
  ),
  /** The ID-token claim listing the user's groups (an array of strings, or one string). */
  groupsClaim: z.string().min(1).default("groups"),
  /** Members of any of these groups get the `admin` role. */
  adminGroups: z.array(z.string().min(1)).default([]),
  /** Members of any of these groups (and of no admin group) get the `viewer` role. */
  viewerGroups: z.array(z.string().min(1)).default([]),
  /** Extra CA certificate (PEM file) to trust for the provider, e.g. an internal Keycloak's. */
  issuerCaFile: filePath.optional(),
}).refine(
  (oidc) => oidc.adminGroups.length + oidc.viewerGroups.length > 0,
  { message: "must list at least one group in adminGroups or viewerGroups, or nobody could log in" },
);

export const uiSchema = z.object({
  /** The UI's own address, host:port (`--ui-listen` wins); without it the UI is on the proxy port. */
  listen: z.string().regex(/^([^\s:]*|\[[0-9a-f:]+\]):\d{1,5}$/i, "must be host:port, e.g. 0.0.0.0:8444")
    .optional(),
  tls: uiTlsSchema.optional(),
  oidc: uiOidcSchema.optional(),
}).prefault({});

export type UiConfig = z.infer<typeof uiSchema>;
export type UiOidcConfig = z.infer<typeof uiOidcSchema>;

/** `localhost`, `127.x.x.x`, `::1` (with or without brackets). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return host === "localhost" || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host) ||
    /^::ffff:127(\.\d{1,3}){3}$/.test(host);
}
