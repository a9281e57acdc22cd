/**
 * The contract between the UI framework (`ui/`) and the file routes: what a route module exports, the
 * context each handler receives, and the services it reads and changes things through. Routes import
 * these types; `ui/` implements them, so routes never import the framework itself.
 * @module
 */
import type { ComponentChildren, JSX } from "preact";
import type { Config, DeveloperConfig, PolicyEntry } from "../../config/schema.ts";
import type { PolicyVersion, SimulationReport } from "../../policies/versions/mod.ts";
import type { Db } from "../../storage/db/db.ts";
import type { ObjectStore } from "../../storage/objects/store.ts";
import type { LiveExchange } from "../../storage/ui/activity.ts";
import type { UiRole } from "../../storage/ui/users.ts";

/** The logged-in user, set by `_middleware.ts`. */
export interface UiUser {
  name: string;
  role: UiRole;
  /** This session's CSRF token: every form that changes something posts it as `_csrf`. */
  csrf: string;
  /** Logged in through single sign-on (the role came from the provider's groups). */
  sso?: boolean;
}

/** Per-request state shared by middleware, handlers, layout and page. */
export interface UiState {
  user?: UiUser;
  /** Set after a POST-redirect-GET: a short message for the top of the page. */
  notice?: string;
  /** Extra `<title>` text. */
  title?: string;
  /** URL path of the islands' bundle, once built (the framework adds the script tag when a page has islands). */
  bundle?: string;
}

/** A policy module as the editor sees it: its options' JSON Schema comes from its zod schema. */
export interface PolicyModuleInfo {
  name: string;
  description: string;
  jsonSchema: Record<string, unknown>;
}

/** The outcome of a change that the gateway must accept (config reload). */
export type ChangeResult = { ok: true } | { ok: false; reason: string };

/** What routes may do beyond reading the database. */
export interface UiServices {
  db: Db;
  /** The object store with captured bodies, when capture runs. */
  objects: ObjectStore | null;
  /** The running config (as the gateway sees it after its last reload). */
  config(): Config;
  /** The proxy's URL for `HTTPS_PROXY` lines. */
  proxyUrl(): string;
  /** Built-in policy modules, for the chain editor. */
  policyModules(): PolicyModuleInfo[];
  /** Validates one entry's options with its module's schema: `null` when valid, else the messages by path. */
  validatePolicyOptions(use: string, options: unknown): Record<string, string> | null;
  /** Publishes a new chain version (validated, recorded, applied by a gateway reload, audited). */
  savePolicies(entries: PolicyEntry[], actor: string, note: string): Promise<ChangeResult>;
  /** Makes an older chain version current again, as a new version. */
  rollbackPolicies(version: number, actor: string): Promise<ChangeResult>;
  /** Chain versions, newest first. */
  policyHistory(limit?: number): Promise<PolicyVersion[]>;
  /** Replays the last `days` of captured traffic through a candidate chain (nothing is enforced or spent). */
  simulatePolicies(entries: PolicyEntry[], days: number): Promise<SimulationReport>;
  /** Replaces the developer list (credentials), audited and applied like the chain. */
  saveDevelopers(developers: DeveloperConfig[], actor: string, action: string): Promise<ChangeResult>;
  /** Appends to the audit log. */
  audit(
    entry: { actor: string; action: string; target: string; before?: unknown; after?: unknown },
  ): Promise<void>;
  /** Subscribes to exchanges as capture persists them; returns the unsubscribe function. */
  subscribeLive(listener: (exchange: LiveExchange) => void): () => void;
  /** Checks the login form; on success returns the `Set-Cookie` value of a new session. */
  login(name: string, password: string): Promise<{ cookie: string } | null>;
  /** Ends the request's session; returns the `Set-Cookie` value that clears the cookie. */
  logout(req: Request): Promise<string>;
  /** The user behind the request's session cookie, or `null`. */
  currentUser(req: Request): Promise<UiUser | null>;
  /** OpenID Connect single sign-on, or `null` when `ui.oidc` is not configured. */
  sso: SsoService | null;
}

/**
 * How a single sign-on callback ended: a session, or a refusal with the page's status and message.
 * `flowEnded` says whether the pending login is used up (its cookie is then removed); a callback whose
 * state does not match leaves it, so a forged callback cannot cancel the browser's own login.
 */
export type SsoOutcome =
  | { ok: true; cookie: string; next: string; user: string; role: UiRole }
  | { ok: false; status: number; message: string; flowEnded: boolean };

/** Single sign-on as the routes use it (`ui/sso.ts` implements it). */
export interface SsoService {
  /** Where to send the browser to log in (the provider) and the `Set-Cookie` value of the pending flow. */
  start(next: string): Promise<{ location: string; cookie: string }>;
  /** Finishes a login from the provider's redirect to `url` (state, code, ID token, groups). */
  finish(req: Request, url: URL): Promise<SsoOutcome>;
  /** The `Set-Cookie` value that removes the pending flow. */
  clearFlow(): string;
  /** The provider's logout URL (returning to this UI's `/login`), or `null` when it advertises none. */
  logoutUrl(): Promise<string | null>;
}

/** What a handler receives. */
export interface RouteContext {
  url: URL;
  params: Record<string, string>;
  state: UiState;
  services: UiServices;
  /** Renders the route's page component inside the layouts, with `data` as its `data` prop. */
  render(data?: unknown, init?: ResponseInit): Promise<Response>;
}

/** What a middleware receives: the route context plus the rest of the chain. */
export interface MiddlewareContext extends RouteContext {
  next(): Promise<Response>;
}

/** A route's handlers by method; a missing GET renders the page. */
export type Handlers = Partial<
  Record<"GET" | "POST" | "PUT" | "DELETE", (req: Request, ctx: RouteContext) => Response | Promise<Response>>
>;

/** What a page component receives. */
export interface PageProps<Data = unknown> {
  url: URL;
  params: Record<string, string>;
  state: UiState;
  data: Data;
}

/** What a layout receives: the page (or inner layout) as `Component`. */
export interface LayoutProps extends PageProps {
  Component: () => JSX.Element;
  children?: ComponentChildren;
}

/** A `_middleware.ts` module. */
export interface MiddlewareModule {
  handler(req: Request, ctx: MiddlewareContext): Response | Promise<Response>;
}

/** Redirect after a change (303 so the browser GETs the target). */
export function seeOther(location: string): Response {
  return new Response(null, { status: 303, headers: { location } });
}
