/**
 * What a single sign-on login must remember between sending the browser to the provider and its return:
 * `state`, `nonce`, the PKCE verifier and where to go after. It travels in a short-lived cookie signed
 * with HMAC-SHA256 (a key derived from the fleet's HMAC key), so any gateway of a fleet can finish a login
 * another one started, and a browser cannot forge or alter it. The cookie is `SameSite=Lax` because the
 * provider's redirect back is a cross-site navigation, which never carries `Strict` cookies; it is
 * limited to the callback's path.
 * @module
 */
import { cookie, readCookie } from "../routes/_lib/cookies.ts";

/** The flow cookie's name. */
export const FLOW_COOKIE = "recondo_sso";
const CALLBACK_PATH = "/sso/callback";
/** A login not finished within this time starts over. */
export const FLOW_TTL_MS = 10 * 60_000;

/** One login in progress. */
export interface SsoFlow {
  state: string;
  nonce: string;
  verifier: string;
  next: string;
  expiresAt: number;
}

/** Signs and reads flow cookies with `key`. */
export interface FlowCookies {
  write(flow: SsoFlow): Promise<string>;
  /** The flow in `req`'s cookie, or `null` when absent, altered, or expired at `now`. */
  read(req: Request, now: number): Promise<SsoFlow | null>;
  /** The `Set-Cookie` value that removes the flow cookie. */
  clear(): string;
}

/** Flow cookies signed with a key derived from `secret` (so the fleet key itself signs nothing else). */
export async function createFlowCookies(secret: Uint8Array): Promise<FlowCookies> {
  const base = await crypto.subtle.importKey(
    "raw",
    secret as BufferSource,
    { name: "HMAC", hash: "SHA-256" },
    false,
    [
      "sign",
    ],
  );
  const derived = await crypto.subtle.sign("HMAC", base, new TextEncoder().encode("recondo ui sso flow v1"));
  const key = await crypto.subtle.importKey("raw", derived, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]);
  const attributes = (value: string, maxAge: number) =>
    cookie(FLOW_COOKIE, value, maxAge).replace("Path=/;", `Path=${CALLBACK_PATH};`).replace(
      "SameSite=Strict",
      "SameSite=Lax",
    );
  return {
    async write(flow) {
      const payload = toBase64Url(new TextEncoder().encode(JSON.stringify(flow)));
      const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(payload)));
      return attributes(`${payload}.${toBase64Url(mac)}`, Math.round(FLOW_TTL_MS / 1000));
    },
    async read(req, now) {
      const value = readCookie(req, FLOW_COOKIE);
      const dot = value?.indexOf(".") ?? -1;
      if (!value || dot < 0) return null;
      const payload = value.slice(0, dot);
      const mac = fromBase64Url(value.slice(dot + 1));
      if (!mac) return null;
      const valid = await crypto.subtle.verify(
        "HMAC",
        key,
        mac as BufferSource,
        new TextEncoder().encode(payload),
      );
      if (!valid) return null;
      const bytes = fromBase64Url(payload);
      if (!bytes) return null;
      const flow = JSON.parse(new TextDecoder().decode(bytes)) as SsoFlow;
      return flow.expiresAt > now ? flow : null;
    },
    clear: () => attributes("", 0),
  };
}

function toBase64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array | null {
  try {
    const raw = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}
