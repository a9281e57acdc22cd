/**
 * The UI, served by the gateway's own process. `createUi` discovers the file routes and islands, starts
 * the islands' bundle build, and returns a handler the gateway mounts for origin-form requests.
 *
 * Request lifecycle:
 * 1. `/static/…` is served from `static/` (the islands' bundle from `static/build/`).
 * 2. The first route whose pattern matches the path is chosen; no match → `null` (the gateway answers 404).
 * 3. The route's `_middleware.ts` handlers run outermost first (`routes/_middleware.ts`: login, roles, CSRF).
 * 4. The route's handler for the method runs; a GET without a handler renders the page.
 * 5. `ctx.render(data)` renders the page inside its `_layout.tsx` files, adding the bundle's script tag
 *    only when the HTML contains an island.
 * 6. Every response gets the secure headers (`ui/secure_headers.ts`); over HTTPS also HSTS and `Secure`
 *    cookies.
 * @example
 * const ui = await createUi({ dataDir, db, objects, configPath, gateway: () => gateway });
 * startGateway({ ..., local: (req) => ui.handle(req) });
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Config } from "../config/schema.ts";
import { log } from "../core/log.ts";
import type { PolicyServices } from "../policies/types.ts";
import type { Db } from "../storage/db/db.ts";
import type { ObjectStore } from "../storage/objects/store.ts";
import { appendAudit } from "../storage/ui/audit.ts";
import type {
  ChangeResult,
  MiddlewareContext,
  RouteContext,
  UiServices,
  UiState,
} from "../routes/_lib/context.ts";
import { createAuth } from "./auth.ts";
import { buildIslands, type Bundle } from "./bundle.ts";
import { createConfigEditor } from "./config_edits.ts";
import { createControlEditing } from "./control_editing.ts";
import type { ControlPlane } from "../control/db_control.ts";
import { withTokenHashed } from "../core/proxy_token.ts";
import type { DeveloperConfig } from "../config/schema.ts";
import { discoverIslands } from "./islands.ts";
import { createLiveBus, type LivePublisher } from "./live_bus.ts";
import { createPolicyEditing } from "./policy_editing.ts";
import { policyModules, validatePolicyOptions } from "./policy_modules.ts";
import { renderPage } from "./render.ts";
import { simulateEntries } from "./simulate.ts";
import { discoverRoutes, type Route } from "./router.ts";
import { withSecureHeaders } from "./secure_headers.ts";
import { serveStatic } from "./static_files.ts";
import { createSso } from "./sso.ts";
import type { UiSecrets } from "../config/ui_files.ts";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

/** The gateway as the UI uses it; late-bound because the gateway starts after the UI's handler exists. */
export interface UiGatewayHooks {
  config(): Config;
  reload(): Promise<ChangeResult>;
  proxyUrl: string;
}

/** Options of `createUi`. */
export interface UiOptions {
  dataDir: string;
  db: Db;
  objects: ObjectStore | null;
  /** The config file the gateway watches; policy and developer edits are written here. */
  configPath: string;
  /** The running gateway (or `undefined` before it has started). */
  gateway(): UiGatewayHooks | undefined;
  /** What the chain needs from below when an edit is validated (default: SQL services over `db`). */
  policyServices?: PolicyServices;
  /** The database control plane (PostgreSQL fleet); without it, edits are written to the config file. */
  control?: ControlPlane;
  /** The fleet's HMAC key: a proxy token issued in the UI is stored only as its keyed hash. */
  hmacKey?: Uint8Array;
  /** Overrides for tests. */
  routesDir?: string;
  islandsDir?: string;
  staticDir?: string;
  /**
   * Whether a missing islands bundle is built (`deno bundle`, which fetches esbuild from npm). `serve`
   * says `false`: it uses the bundle `deno task build` made and logs `ui.bundle_missing` without one.
   * Default `true` (tests, benches).
   */
  buildBundle?: boolean;
  now?: () => number;
  /** OpenID Connect single sign-on (`ui.oidc` with its secrets read), beside local accounts. */
  oidc?: UiSecrets["oidc"];
  /** Session lifetimes (defaults 2 h idle, 12 h absolute). */
  idleMs?: number;
  absoluteMs?: number;
}

/** The running UI. */
export interface Ui {
  /** Answers a UI request, or `null` when no route matches. */
  handle(req: Request): Promise<Response | null>;
  /** Where capture publishes persisted exchanges for the Live view. */
  live: LivePublisher;
  /** The islands' bundle, once built (resolves when ready; rejects if the build failed). */
  bundle(): Promise<Bundle>;
  close(): Promise<void>;
}

/**
 * Builds the islands' bundle now, without starting anything: `recondo build-ui` (`deno task build`) runs it
 * when a container image is built, so a gateway started from the image finds the bundle of its own sources
 * in `static/build/` and reuses it (`buildIslands` keys the file by a hash of the sources) instead of
 * running `deno bundle` at start, which would need esbuild from the npm registry and a writable app folder.
 * @example
 * const { path, bytes } = await buildUiBundle();
 */
export async function buildUiBundle(
  options: { islandsDir?: string; staticDir?: string } = {},
): Promise<Bundle> {
  const islands = await discoverIslands(options.islandsDir ?? join(ROOT, "islands"));
  return await buildIslands(islands, options.staticDir ?? join(ROOT, "static"), join(ROOT, "deno.json"));
}

/** Builds the UI: routes, islands, bundle (in the background), auth, live bus. */
export async function createUi(options: UiOptions): Promise<Ui> {
  const routesDir = options.routesDir ?? join(ROOT, "routes");
  const staticDir = options.staticDir ?? join(ROOT, "static");
  const [routes, islands] = await Promise.all([
    discoverRoutes(routesDir),
    discoverIslands(options.islandsDir ?? join(ROOT, "islands")),
  ]);
  const build = options.buildBundle ?? true;
  const bundle = buildIslands(islands, staticDir, join(ROOT, "deno.json"), { build });
  let bundlePath: string | null = null;
  bundle.then(
    (b) => bundlePath = b.path,
    (error) => log.error(build ? "ui.bundle_failed" : "ui.bundle_missing", { reason: error.message }),
  );

  const auth = await createAuth({
    db: options.db,
    dataDir: options.dataDir,
    now: options.now,
    idleMs: options.idleMs,
    absoluteMs: options.absoluteMs,
  });
  const live = createLiveBus({ db: options.db, now: options.now });
  const audit: UiServices["audit"] = (entry) => appendAudit(options.db, entry, (options.now ?? Date.now)());
  const sso = options.oidc
    ? await createSso(options.oidc, {
      // Without the fleet key (tests), a key of this process: a login then finishes on the gateway that began it.
      hmacKey: options.hmacKey ?? crypto.getRandomValues(new Uint8Array(32)),
      startSession: async (name, role) => (await auth.startSsoSession(name, role)).cookie,
      audit,
      now: options.now,
    })
    : null;
  const gateway = () => {
    const g = options.gateway();
    if (!g) throw new Error("The UI cannot change the config before the gateway has started");
    return g;
  };
  const editConfig = createConfigEditor({
    configPath: options.configPath,
    reload: () => gateway().reload(),
    audit,
  });
  const policies = createPolicyEditing({
    db: options.db,
    configPath: options.configPath,
    current: () => gateway().config().policies,
    reload: () => gateway().reload(),
    audit,
    services: options.policyServices,
    now: options.now,
  });
  const services: UiServices = {
    db: options.db,
    objects: options.objects,
    config: () => gateway().config(),
    proxyUrl: () => gateway().proxyUrl,
    policyModules,
    validatePolicyOptions,
    savePolicies: (entries, actor, note) => policies.save(entries, actor, note),
    rollbackPolicies: (version, actor) => policies.rollback(version, actor),
    policyHistory: (limit) => policies.history(limit),
    simulatePolicies: (entries, days) =>
      simulateEntries(entries, {
        db: options.db,
        objects: options.objects,
        configPath: options.configPath,
        days,
      }),
    saveDevelopers: (developers, actor, action) =>
      editConfig("developers", hashTokens(developers, options.hmacKey), actor, action),
    audit,
    subscribeLive: (listener) => live.subscribe(listener),
    login: auth.login,
    logout: auth.logout,
    currentUser: auth.currentUser,
    sso,
  };
  if (options.control) {
    Object.assign(
      services,
      createControlEditing({
        control: options.control,
        reload: () => gateway().reload(),
        currentPolicies: () => gateway().config().policies,
        currentDevelopers: () => gateway().config().developers,
        audit,
      }),
    );
  }

  async function dispatch(
    route: Route,
    req: Request,
    url: URL,
    params: Record<string, string>,
  ): Promise<Response> {
    const state: UiState = { bundle: bundlePath ?? undefined };
    const ctx: RouteContext = {
      url,
      params,
      state,
      services,
      render(data, init) {
        if (!route.page) return Promise.resolve(new Response("This route has no page\n", { status: 500 }));
        const html = renderPage(route.page, route.layouts, { url, params, state, data }, bundlePath);
        const headers = new Headers(init?.headers);
        headers.set("content-type", "text/html; charset=utf-8");
        return Promise.resolve(new Response(html, { ...init, headers }));
      },
    };
    const final = (): Promise<Response> => {
      const method = req.method === "HEAD" ? "GET" : req.method;
      const handler = route.handlers[method as keyof typeof route.handlers];
      if (handler) return Promise.resolve(handler(req, ctx));
      if (method === "GET" && route.page) return ctx.render(undefined);
      return Promise.resolve(new Response("Method not allowed\n", { status: 405 }));
    };
    const run = (i: number): Promise<Response> => {
      if (i >= route.middlewares.length) return final();
      const mctx: MiddlewareContext = { ...ctx, next: () => run(i + 1) };
      return Promise.resolve(route.middlewares[i].handler(req, mctx));
    };
    return await run(0);
  }

  return {
    live,
    bundle: () => bundle,
    async handle(req) {
      const url = new URL(req.url);
      const secure = { https: url.protocol === "https:" };
      if (url.pathname.startsWith("/static/")) {
        if (url.pathname.startsWith("/static/build/")) await bundle.catch(() => {});
        const file = await serveStatic(staticDir, url.pathname);
        return file ? withSecureHeaders(file, secure) : null;
      }
      for (const route of routes) {
        const params = route.match(url.pathname);
        if (!params) continue;
        if (bundlePath === null) await bundle.catch(() => {});
        try {
          return withSecureHeaders(await dispatch(route, req, url, params), secure);
        } catch (error) {
          log.error("ui.route_failed", { route: route.pattern, reason: (error as Error).message });
          return withSecureHeaders(new Response("Internal error\n", { status: 500 }), secure);
        }
      }
      return null;
    },
    close() {
      live.close();
      return bundle.then(() => {}, () => {});
    },
  };
}

/** Tokens issued in the UI are written as keyed hashes (shown once to the admin, stored nowhere). */
function hashTokens(developers: DeveloperConfig[], key: Uint8Array | undefined): DeveloperConfig[] {
  if (!key) return developers;
  return developers.map((developer) => withTokenHashed(developer, key));
}
