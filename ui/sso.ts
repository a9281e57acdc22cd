/**
 * OpenID Connect single sign-on for the UI, with `openid-client`: authorization code + PKCE + state +
 * nonce. `start` sends the browser to the provider with the flow in a signed cookie (`sso_flow_cookie.ts`);
 * `finish` checks the returned `state` against that cookie (and that it was not used before), redeems the
 * code, validates the ID token (issuer, audience, expiry, nonce), maps its groups to a role
 * (`sso_roles.ts`) and starts a session like a password login. The provider's metadata is fetched at the
 * first login and kept; a failed fetch is retried at the next one, so the gateway starts even while the
 * provider is down.
 * @example
 * const sso = await createSso(secrets.oidc, { hmacKey, startSession, audit });
 * @module
 */
import * as client from "openid-client";
import type { UiSecrets } from "../config/ui_files.ts";
import { log } from "../core/log.ts";
import type { SsoOutcome, SsoService } from "../routes/_lib/context.ts";
import type { UiRole } from "../storage/ui/users.ts";
import { createFlowCookies, FLOW_TTL_MS } from "./sso_flow_cookie.ts";
import { roleFromClaims, SSO_PREFIX, ssoUserName } from "./sso_roles.ts";

/** What `createSso` needs besides the settings. */
export interface SsoOptions {
  /** Signs the flow cookie (a key is derived from it); the fleet's HMAC key, so any replica can finish. */
  hmacKey: Uint8Array;
  /** Starts a UI session; returns its `Set-Cookie` value. */
  startSession(name: string, role: UiRole): Promise<string>;
  audit(entry: { actor: string; action: string; target: string; after?: unknown }): Promise<void>;
  now?: () => number;
}

type OidcSettings = NonNullable<UiSecrets["oidc"]>;

/** The single sign-on service the routes call (`/sso/login`, `/sso/callback`, `/logout`). */
export async function createSso(settings: OidcSettings, options: SsoOptions): Promise<SsoService> {
  const now = options.now ?? Date.now;
  const flows = await createFlowCookies(options.hmacKey);
  const used = new Map<string, number>(); // state → expiry: a callback replayed to this process is refused
  let discovered: Promise<client.Configuration> | null = null;
  const configuration = () => {
    discovered ??= discover(settings).catch((error) => {
      discovered = null;
      throw new Error(`Cannot reach the OpenID provider ${settings.issuer}: ${(error as Error).message}`, {
        cause: error,
      });
    });
    return discovered;
  };
  const refuse = (status: number, message: string, flowEnded = true): SsoOutcome => ({
    ok: false,
    status,
    message,
    flowEnded,
  });

  return {
    async start(next) {
      const config = await configuration();
      const flow = {
        state: client.randomState(),
        nonce: client.randomNonce(),
        verifier: client.randomPKCECodeVerifier(),
        next,
        expiresAt: now() + FLOW_TTL_MS,
      };
      const location = client.buildAuthorizationUrl(config, {
        redirect_uri: settings.redirectUrl,
        scope: settings.scopes.join(" "),
        code_challenge: await client.calculatePKCECodeChallenge(flow.verifier),
        code_challenge_method: "S256",
        state: flow.state,
        nonce: flow.nonce,
      });
      return { location: location.href, cookie: await flows.write(flow) };
    },
    async finish(req, url) {
      const at = now();
      for (const [state, expiry] of used) if (expiry <= at) used.delete(state);
      const flow = await flows.read(req, at);
      const returned = url.searchParams.get("state");
      if (!flow) {
        return refuse(400, "This login has no pending single sign-on (it expired or was started elsewhere).");
      }
      if (used.has(flow.state)) {
        log.warn("ui.sso_state_refused", { reason: "replayed" });
        return refuse(400, "This single sign-on response was used before; log in again.");
      }
      if (!returned || returned !== flow.state) {
        log.warn("ui.sso_state_refused", { reason: "mismatch" });
        return refuse(400, "The state returned by the identity provider does not match this login.", false);
      }
      used.set(flow.state, flow.expiresAt);
      const error = url.searchParams.get("error");
      if (error) {
        const described = url.searchParams.get("error_description") ?? error;
        return refuse(401, `The identity provider refused the login: ${described.slice(0, 200)}`);
      }
      let claims: Record<string, unknown>;
      try {
        // The URL the provider redirected to, as configured: behind a reverse proxy req.url may differ.
        const current = new URL(settings.redirectUrl);
        current.search = url.search;
        const tokens = await client.authorizationCodeGrant(await configuration(), current, {
          pkceCodeVerifier: flow.verifier,
          expectedState: flow.state,
          expectedNonce: flow.nonce,
          idTokenExpected: true,
        });
        claims = { ...tokens.claims() };
      } catch (error) {
        log.warn("ui.sso_failed", { reason: (error as Error).message });
        return refuse(401, `Single sign-on failed: ${(error as Error).message}`);
      }
      const name = ssoUserName(claims);
      const role = roleFromClaims(claims, settings);
      if (!role) {
        log.warn("ui.sso_no_role", { user: name, claim: settings.groupsClaim });
        await options.audit({
          actor: name,
          action: "login refused",
          target: "sso",
          after: { reason: "no group" },
        });
        return refuse(
          403,
          `${
            name.slice(SSO_PREFIX.length)
          } is in none of the groups allowed here (claim "${settings.groupsClaim}"); ask an admin to add you to one.`,
        );
      }
      const cookie = await options.startSession(name, role);
      await options.audit({ actor: name, action: "login", target: "sso", after: { role } });
      return { ok: true, cookie, next: flow.next, user: name, role };
    },
    clearFlow: () => flows.clear(),
    async logoutUrl() {
      const config = await configuration().catch(() => null);
      if (!config?.serverMetadata().end_session_endpoint) return null;
      return client.buildEndSessionUrl(config, {
        client_id: settings.clientId,
        post_logout_redirect_uri: new URL("/login", settings.redirectUrl).href,
      }).href;
    },
  };
}

/** Reads the provider's metadata, trusting `issuerCa` too when given. */
function discover(settings: OidcSettings): Promise<client.Configuration> {
  const http = settings.issuerCa ? Deno.createHttpClient({ caCerts: [settings.issuerCa] }) : null;
  const auth = settings.clientSecret ? client.ClientSecretBasic(settings.clientSecret) : client.None();
  const options: client.DiscoveryRequestOptions = { timeout: 10 };
  if (http) {
    options[client.customFetch] = (url, init) => fetch(url, { ...init, client: http } as RequestInit);
  }
  if (new URL(settings.issuer).protocol === "http:") options.execute = [client.allowInsecureRequests];
  return client.discovery(new URL(settings.issuer), settings.clientId, undefined, auth, options);
}
