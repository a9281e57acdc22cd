/**
 * Assembles a running gateway: config, CA and leaf cache, the policy chain (hot-reloaded), the upstream
 * client, the inner server and the front door. `startGateway` is what `recondo serve` and the
 * end-to-end tests call.
 * @module
 */
import { dirname } from "node:path";
import { type CaptureSink, nullSink } from "../capture/sink.ts";
import { loadConfig } from "../config/load.ts";
import { dataPaths } from "../config/paths.ts";
import { type Config, interceptEntries } from "../config/schema.ts";
import { compileHostMatcher } from "../config/host_patterns.ts";
import { parseUpstreamOverride } from "../config/upstream_override.ts";
import type { ClientIdentity } from "../core/exchange.ts";
import { log } from "../core/log.ts";
import { buildChain } from "../policies/build_chain.ts";
import { createModelAliases } from "../providers/model_aliases.ts";
import type { PolicyChain } from "../policies/chain.ts";
import type { PolicyServices } from "../policies/types.ts";
import { ConnectionRegistry } from "./connection_registry.ts";
import type { ExchangeDeps, Parsers } from "./exchange_handler.ts";
import { type FrontDoorSettings, startFrontDoor } from "./front_door.ts";
import { startInnerServer } from "./inner_server.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import { loadOrCreateCa } from "./tls/ca.ts";
import { createLeafCache } from "./tls/leaf_cache.ts";
import { createUpstreamClient } from "./upstream_client.ts";
import { createIdentityResolver } from "./identity.ts";
import { loadOrCreateHmacKey } from "../capture/credentials.ts";
import type { ControlSnapshot, ControlSource } from "../config/control.ts";
import { watchFiles } from "../config/file_watch.ts";
import { InFlight } from "./inflight.ts";
import { drainGateway, type DrainResult } from "./drain.ts";
import { createHealth } from "./health.ts";
import { startMemoryTrim } from "./memory_trim.ts";

export interface GatewayOptions {
  dataDir: string;
  configPath: string;
  env?: { get(name: string): string | undefined };
  /** Overrides config `listen` (the `--listen` flag). */
  listen?: string;
  sink?: CaptureSink;
  parsers?: Parsers | null;
  services?: PolicyServices;
  /** Watch the config file and hot-reload the chain (default true). */
  watch?: boolean;
  /**
   * Where the chain and the developers come from: the database of a fleet, or by default the config file
   * (`ControlSource` of kind `file`, built by the caller, e.g. `control/file_source.ts`).
   */
  control?: ControlSource;
  /**
   * Extra handler for origin-form requests (the UI), given the client (its `address` tells loopback apart);
   * `/healthz` and `/metrics` are built in.
   */
  local?: (req: Request, client: ClientIdentity) => Response | null | Promise<Response | null>;
  /**
   * Applies the parts of a reloaded config that live outside the proxy (the `alerts` block) before it is
   * swapped in; a throw rejects the reload and the running config, chain and alerts all stay.
   */
  applyConfig?: (config: Config) => Promise<void>;
  /** Extra readiness checks for `/readyz` (e.g. "database unreachable"); an empty array means ready. */
  readiness?: () => Promise<string[]>;
}

export interface Gateway {
  hostname: string;
  port: number;
  /** `http://host:port`, the value for `HTTPS_PROXY`. */
  proxyUrl: string;
  caCertPath: string;
  metrics: Metrics;
  config(): Config;
  chain(): PolicyChain;
  /** The chain version running (`null` from a plain config file) and the last failure to apply a newer one. */
  control(): { version: number | null; error: string | null; source: "file" | "database" };
  /** Re-reads the config; on any error keeps the running chain and returns the reason. */
  reload(): Promise<{ ok: true } | { ok: false; reason: string }>;
  /**
   * Stops accepting, ends idle client connections and waits up to `graceMs` (default the config's
   * `shutdownGraceSeconds`) for exchanges, WebSockets and tunnels in flight. Does not close capture or
   * cut anything: call `close()` after. Calling it again returns the same drain.
   */
  drain(options?: { graceMs?: number }): Promise<DrainResult>;
  /** True from the start of `drain()`: `/readyz` answers 503. */
  draining(): boolean;
  /** Exchanges + WebSocket sessions + blind tunnels in flight. */
  inFlight(): number;
  /** `/healthz` and `/readyz`, for another listener (`--ui-listen`) to serve too; `null` for other paths. */
  health(req: Request): Promise<Response> | null;
  close(): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const env = options.env ?? Deno.env;
  const paths = dataPaths(options.dataDir, env);
  await Deno.mkdir(paths.dir, { recursive: true });
  const source: ControlSource = options.control ?? plainFileSource(options.configPath, env);
  let snapshot = await source.load();
  let config = withControl(await loadConfig(options.configPath, env), snapshot);
  let chain = await buildChain(snapshot.policies, { baseDir: snapshot.baseDir, services: options.services });
  let controlError: string | null = null;
  const overrides = parseUpstreamOverride(env.get("RECONDO_UPSTREAM_OVERRIDE"));

  const wanted = interceptEntries(config);
  const ca = await loadOrCreateCa(paths, { domains: wanted });
  const leaves = createLeafCache(ca);

  const metrics = createMetrics();
  metrics.gaugeFrom("recondo_tls_leaves_cached", "Leaf certificates in the cache", () => leaves.stats().size);
  const extraCa = env.get("RECONDO_EXTRA_CA_CERTS");
  const client = await createUpstreamClient({
    extraCaFiles: [paths.extraRoots, ...(extraCa ? [extraCa] : [])],
    proxyUrl: config.upstream.proxy,
    maxIdlePerHost: config.upstream.maxIdleConnectionsPerHost,
  });
  const hmacKey = await loadOrCreateHmacKey(paths.secretKey);
  const resolveIdentity = createIdentityResolver(hmacKey);
  const registry = new ConnectionRegistry();
  metrics.gaugeFrom(
    "recondo_pipe_registry_size",
    "Client connections registered with the inner server",
    () => registry.size,
  );

  // Compiled once per intercept list (a reload may bring a new one), not once per CONNECT.
  let matcherFor: { list: readonly string[]; matches: (host: string) => boolean } | null = null;
  const settings = (): FrontDoorSettings => {
    if (matcherFor?.list !== config.intercept) {
      matcherFor = { list: config.intercept, matches: compileHostMatcher(interceptEntries(config)) };
    }
    const intercepted = matcherFor.matches;
    return {
      isIntercepted: (host) => intercepted(host) && ca.permits(host),
      otherHosts: config.otherHosts,
      developers: config.developers,
      hmacKey,
      requireProxyAuth: config.requireProxyAuth,
      maxHeaderBytes: config.limits.maxHeaderBytes,
      headerTimeoutMs: config.limits.headerTimeoutMs,
    };
  };
  const deps: ExchangeDeps = {
    chain: () => chain,
    sink: options.sink ?? nullSink,
    metrics,
    client,
    overrides,
    parsers: options.parsers ?? null,
    identify: (connection, headers) => resolveIdentity(connection, headers, config.developers),
    modelAliases: {
      azure: createModelAliases(() => config.azure.deployments),
      bedrock: createModelAliases(() => config.bedrock.profiles),
    },
    limits: () => ({
      maxBufferedBodyBytes: config.limits.maxBufferedBodyBytes,
      idleTimeoutMs: config.upstream.idleTimeoutMs,
      headersTimeoutMs: config.upstream.headersTimeoutMs,
      strict: config.capture.durability === "strict",
    }),
  };
  const inFlight = new InFlight();
  metrics.gaugeFrom(
    "recondo_inflight_exchanges",
    "Exchanges, WebSocket sessions and blind tunnels in flight",
    () => inFlight.total,
  );
  metrics.gaugeFrom("recondo_draining", "1 while draining before shutdown", () => inFlight.draining ? 1 : 0);
  const health = createHealth({ draining: () => inFlight.draining, readiness: options.readiness });
  const local = async (req: Request, client: ClientIdentity): Promise<Response> => {
    const path = new URL(req.url).pathname;
    const healthAnswer = health.handle(req);
    if (healthAnswer) return await healthAnswer;
    if (path === "/metrics") {
      return new Response(await metrics.registry.metrics(), {
        headers: { "content-type": metrics.registry.contentType },
      });
    }
    return (await options.local?.(req, client)) ?? new Response("Not found\n", { status: 404 });
  };
  const inner = startInnerServer({ registry, deps, settings, local, inFlight });

  const listen = options.listen ?? config.listen;
  const colon = listen.lastIndexOf(":");
  const hostname = listen.slice(0, colon) || "127.0.0.1";
  const front = await startFrontDoor(hostname, Number(listen.slice(colon + 1)), {
    settings,
    registry,
    innerPort: inner.addr.port,
    metrics,
    tlsFor: (host) => ({ SNICallback: leaves.sniCallbackFor(host) }),
    inFlight,
  });
  const port = front.port;
  const stopMemoryTrim = startMemoryTrim({ openConnections: () => registry.size });

  // One path applies every new version, from the file or the database: load, build, swap; on any error
  // the running chain stays. Reloads are serialised so a notification and a poll cannot interleave.
  const apply = async (): Promise<{ ok: true } | { ok: false; reason: string }> => {
    try {
      const next = await source.load();
      const nextConfig = withControl(await loadConfig(options.configPath, env), next);
      const nextChain = await buildChain(next.policies, {
        baseDir: next.baseDir,
        services: options.services,
        reloadToken: String(Date.now()),
      });
      await options.applyConfig?.(nextConfig);
      config = nextConfig;
      chain = nextChain;
      snapshot = next;
      controlError = null;
      watchModules();
      metrics.configReloads.inc({ result: "applied" });
      log.info("config.reloaded", {
        source: source.kind,
        version: next.version,
        policies: nextChain.entries.map((e) => e.policy.name),
      });
      return { ok: true };
    } catch (error) {
      const reason = (error as Error).message;
      controlError = reason;
      metrics.configReloads.inc({ result: "rejected" });
      log.warn("config.reload_rejected", {
        source: source.kind,
        reason,
        message: "keeping the running policy chain",
      });
      return { ok: false, reason };
    }
  };
  let reloading: Promise<unknown> = Promise.resolve();
  const reload = (): Promise<{ ok: true } | { ok: false; reason: string }> => {
    const result = reloading.then(apply, apply);
    reloading = result;
    return result;
  };
  const watching = options.watch !== false;
  const watchers: { close(): void }[] = [];
  if (watching) {
    watchers.push(source.watch(() => void reload()));
    // With the database as the source, the file still holds this process's own settings (limits, capture).
    if (source.kind === "database") watchers.push(watchFiles([options.configPath], () => void reload()));
  }
  // On a single node, editing a module file the running chain uses reloads it like a config edit.
  let moduleWatch: { close(): void; files: string } | null = null;
  function watchModules() {
    if (!watching) return;
    const files = [...(snapshot.moduleFiles ?? [])].sort();
    if (moduleWatch?.files === files.join("\n")) return;
    moduleWatch?.close();
    moduleWatch = files.length
      ? { ...watchFiles(files, () => void reload()), files: files.join("\n") }
      : null;
  }
  watchModules();
  metrics.gaugeFrom(
    "recondo_policy_chain_version",
    "The policy chain version this gateway runs (-1: a plain config file)",
    () => snapshot.version ?? -1,
  );
  metrics.gaugeFrom(
    "recondo_policy_chain_apply_failed",
    "1 while the newest published chain could not be applied here (the previous one keeps running)",
    () => controlError ? 1 : 0,
  );

  let drained: Promise<DrainResult> | undefined;
  log.info("gateway.listening", { proxy: `http://${hostname}:${port}`, ca: ca.certPath, intercept: wanted });
  return {
    hostname,
    port,
    proxyUrl: `http://${hostname}:${port}`,
    caCertPath: ca.certPath,
    metrics,
    config: () => config,
    chain: () => chain,
    control: () => ({ version: snapshot.version, error: controlError, source: source.kind }),
    reload,
    drain(drainOptions = {}) {
      drained ??= drainGateway(
        { inFlight, stopAccepting: () => front.stopAccepting() },
        drainOptions.graceMs ?? config.shutdownGraceSeconds * 1000,
      );
      return drained;
    },
    draining: () => inFlight.draining,
    inFlight: () => inFlight.total,
    health: (req) => health.handle(req),
    async close() {
      stopMemoryTrim();
      for (const watcher of watchers) watcher.close();
      moduleWatch?.close();
      await front.close();
      await inner.shutdown();
      await deps.sink.close();
      client.close();
    },
  };
}

/** The process's config with the chain and developers of the control snapshot. */
function withControl(config: Config, snapshot: ControlSnapshot): Config {
  return { ...config, policies: snapshot.policies, developers: snapshot.developers };
}

/** The config file as the control source, when the caller gave none (tests, embedded use). */
function plainFileSource(configPath: string, env: { get(name: string): string | undefined }): ControlSource {
  const baseDir = dirname(configPath);
  return {
    kind: "file",
    async load() {
      const config = await loadConfig(configPath, env);
      return { version: null, policies: config.policies, developers: config.developers, baseDir };
    },
    watch: (changed) => watchFiles([configPath], changed),
  };
}
