/**
 * Test support: a real OpenID provider (panva's `oidc-provider`, the certified Node implementation) on
 * 127.0.0.1 over HTTPS with a throwaway CA, so the gateway's `openid-client` talks to it exactly as it
 * would to Keycloak or Entra ID: discovery, the provider's own login and consent pages, code + PKCE, ID
 * token with a groups claim, RP-initiated logout. Accounts are fixed: the login form takes any password
 * for a known name (the provider's development interactions) and refuses unknown names.
 * @module
 */
import https from "node:https";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";
import type { TestCertificate } from "../fake_provider/tls.ts";

/** An account at the provider: its login name and the groups its ID token carries. */
export interface ProviderAccount {
  login: string;
  groups: string[];
}

/** The running provider. */
export interface TestOidcProvider {
  /** The issuer URL, `https://127.0.0.1:<port>`. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  close(): Promise<void>;
}

/**
 * Starts the provider with one confidential client whose redirect and post-logout URLs are `redirectUrl`
 * and `postLogoutUrl`; the ID token carries each account's `groups` when the `groups` scope is asked for.
 */
export async function startOidcProvider(
  tls: TestCertificate,
  options: { accounts: ProviderAccount[]; redirectUrl: string; postLogoutUrl: string },
): Promise<TestOidcProvider> {
  const server = https.createServer({ cert: tls.cert, key: tls.key });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = "recondo-ui";
  const clientSecret = crypto.randomUUID();
  const accounts = new Map(options.accounts.map((a) => [a.login, a]));
  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [options.redirectUrl],
      post_logout_redirect_uris: [options.postLogoutUrl],
      response_types: ["code"],
      grant_types: ["authorization_code"],
    }],
    // Scope claims go into the ID token itself (as Entra ID and Keycloak mappers do), not only userinfo.
    conformIdTokenClaims: false,
    claims: { openid: ["sub"], profile: ["preferred_username"], groups: ["groups"] },
    cookies: { keys: [crypto.randomUUID()] },
    findAccount(_ctx: unknown, id: string) {
      const account = accounts.get(id);
      if (!account) return undefined;
      return {
        accountId: id,
        claims: () => ({ sub: id, preferred_username: id, groups: account.groups }),
      };
    },
  });
  server.on("request", provider.callback());
  return {
    issuer,
    clientId,
    clientSecret,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
