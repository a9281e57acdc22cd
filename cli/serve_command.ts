/**
 * `recondo serve`: runs the gateway until SIGINT/SIGTERM. `deno task serve` is this command.
 * @module
 */
import type { CommandModule } from "./yargs.ts";
import { configPath, loadConfig } from "../config/load.ts";
import { dataDir, dataPaths } from "../config/paths.ts";
import { type Gateway, startGateway } from "../proxy/gateway.ts";
import { createUi } from "../ui/app.ts";
import { startUiListener, uiAddress } from "../ui/listen.ts";
import { loopbackOnly } from "../ui/loopback_only.ts";
import { loadUiSecrets } from "../config/ui_files.ts";
import { wireGateway } from "./wiring.ts";
import { startRetention } from "../storage/retention_job.ts";
import { checkSecretFiles } from "../config/secret_files.ts";
import { wireControl } from "./control_wiring.ts";
import { gatewayId, startHeartbeat } from "../control/heartbeat.ts";
import { log } from "../core/log.ts";
import type { Db } from "../storage/db/db.ts";
import { firstShutdownSignal } from "./shutdown_signals.ts";

interface ServeArgs {
  listen?: string;
  config?: string;
  uiListen?: string;
}

export const serveCommand: CommandModule<Record<string, unknown>, ServeArgs> = {
  command: "serve",
  describe: "Run the gateway (proxy, capture, UI) in the foreground",
  builder: (y) =>
    y
      .option("listen", {
        type: "string",
        describe: "Address for the proxy port, host:port (env RECONDO_LISTEN; default 127.0.0.1:8443)",
      })
      .option("config", {
        type: "string",
        describe: "Config file (env RECONDO_CONFIG; default <data dir>/recondo.json)",
      })
      .option("ui-listen", {
        type: "string",
        describe:
          "Serve the web UI on its own address, host:port (config ui.listen; default: on the proxy port, " +
          "loopback clients only); HTTPS with ui.tls, else loopback only",
      }),
  async handler(args) {
    const dir = dataDir();
    const file = args.config ?? configPath();
    await checkSecretFiles(Deno.env);
    const config = await loadConfig(file);
    // The UI's own address, HTTPS and single sign-on: checked before anything starts, so a bad setting
    // stops the start with its name instead of leaving a UI nobody can reach.
    const uiSecrets = await loadUiSecrets(config.ui, Deno.env);
    const uiListen = args.uiListen ?? config.ui.listen;
    if (uiSecrets.tls && !uiListen) {
      throw new Error(
        "ui.tls is set but the UI has no address of its own: set ui.listen (or --ui-listen), e.g. 0.0.0.0:8444",
      );
    }
    if (uiListen) uiAddress(uiListen, { tls: uiSecrets.tls !== null });
    await Deno.mkdir(dir, { recursive: true });
    const paths = dataPaths(dir);
    const wiring = await wireGateway(paths, config);
    const control = wiring.capture
      ? await wireControl({
        db: wiring.capture.db,
        paths,
        config,
        configPath: file,
        hmacKey: wiring.hmacKey,
        services: wiring.services,
        importFile: true,
      })
      : null;
    let running: Gateway | undefined;
    const ui = wiring.capture
      ? await createUi({
        dataDir: dir,
        db: wiring.capture.db,
        objects: wiring.capture.objects,
        configPath: file,
        gateway: () => running,
        policyServices: wiring.services,
        control: control?.plane ?? undefined,
        hmacKey: wiring.hmacKey,
        oidc: uiSecrets.oidc,
        // Never `deno bundle` at run time (it fetches esbuild): `deno task build` made the bundle.
        buildBundle: false,
      })
      : null;
    const gateway = running = await startGateway({
      dataDir: dir,
      configPath: file,
      listen: args.listen ?? Deno.env.get("RECONDO_LISTEN"),
      sink: wiring.sink,
      parsers: wiring.parsers,
      services: wiring.services,
      local: ui && !uiListen ? loopbackOnly((req) => ui.handle(req)) : undefined,
      control: control?.source,
      // A reloaded `alerts` block (webhooks, their files, thresholds) applies to the next alert.
      applyConfig: async (next) => await wiring.alerts.reconfigure(next.alerts ?? null),
      // Ready only while the database answers: a replica that cannot reach it leaves the balancer's rotation.
      readiness: wiring.capture ? databaseReadiness(wiring.capture.db) : undefined,
    });
    // The UI's own listener also answers /healthz and /readyz: it stays up while the proxy port, draining,
    // refuses new connections, so a probe there sees the 503.
    const uiListener = ui && uiListen
      ? startUiListener(
        { ...ui, handle: async (req) => await gateway.health(req) ?? ui.handle(req) },
        uiListen,
        { tls: uiSecrets.tls },
      )
      : null;
    const capture = wiring.capture;
    if (capture) {
      gateway.metrics.gaugeFrom(
        "recondo_capture_queued",
        "Exchanges waiting to be persisted",
        () => capture.stats().queued,
      );
      gateway.metrics.gaugeFrom(
        "recondo_capture_spilled",
        "Exchanges held only in a journal while the capture worker or the store lagged",
        () => capture.stats().spilled,
      );
      gateway.metrics.gaugeFrom(
        "recondo_capture_written",
        "Exchanges persisted since start",
        () => capture.stats().written,
      );
      gateway.metrics.gaugeFrom(
        "recondo_capture_in_transit_bytes",
        "Bytes of exchanges posted to the capture worker and not yet in its journal",
        () => capture.stats().inTransitBytes ?? 0,
      );
      gateway.metrics.gaugeFrom(
        "recondo_capture_worker_restarts",
        "Times a failed or wedged capture worker was replaced (each replays the journal)",
        () => capture.stats().workerRestarts ?? 0,
      );
      gateway.metrics.gaugeFrom(
        "recondo_capture_worker_wedged",
        "Times a capture worker that made no progress for capture.workerStallMs was replaced",
        () => capture.stats().workerWedged ?? 0,
      );
      gateway.metrics.gaugeFrom(
        "recondo_capture_failed",
        "Exchanges that failed to persist",
        () => capture.stats().failed,
      );
      gateway.metrics.labelledCounterFrom(
        "recondo_spend_usd_total",
        "USD of the model turns persisted since start, by team (empty: unattributed)",
        "team",
        () => capture.stats().spendUsd ?? {},
      );
      gateway.metrics.counterFrom(
        "recondo_otel_spans_exported_total",
        "Spans the OpenTelemetry collector accepted (otel.endpoint)",
        () => capture.stats().otel?.exported ?? 0,
      );
      gateway.metrics.counterFrom(
        "recondo_otel_spans_dropped_total",
        "Spans dropped while the OpenTelemetry collector was down or slow (queue full or export failed)",
        () => capture.stats().otel?.dropped ?? 0,
      );
    }
    // Retention (capture.retention): deletes old turns by policy on a timer; stopped before the stores close.
    const stopRetention = capture
      ? startRetention(capture.db, capture.objects, config.capture.retention)
      : null;
    // Alerts name their sender as the Gateways page does.
    wiring.alerts.setGatewayId(gatewayId(Deno.env, gateway.port));
    // Fleet status: this gateway's heartbeat in the shared database (also on SQLite, for the Gateways page).
    const heartbeat = capture
      ? startHeartbeat(
        capture.db,
        { id: gatewayId(Deno.env, gateway.port), listen: `${gateway.hostname}:${gateway.port}` },
        {
          chain: () => gateway.control(),
          inFlight: () => gateway.inFlight(),
          draining: () => gateway.draining(),
          captureBacklog: () => capture.stats().queued,
        },
        { intervalMs: config.fleet.heartbeatSeconds * 1000 },
      )
      : null;
    console.log(`Recondo is listening on ${gateway.proxyUrl}`);
    console.log(`  export HTTPS_PROXY=${gateway.proxyUrl}`);
    console.log(`  export NODE_EXTRA_CA_CERTS=${gateway.caCertPath}   # Claude Code, Gemini CLI`);
    console.log(`  export CODEX_CA_CERTIFICATE=${gateway.caCertPath}  # Codex`);
    if (ui) console.log(`Web UI: ${uiListener?.url ?? gateway.proxyUrl}/`);
    const signal = await firstShutdownSignal();
    const graceMs = gateway.config().shutdownGraceSeconds * 1000;
    log.info("gateway.draining", { signal, graceMs, inFlight: gateway.inFlight() });
    console.log(`Recondo is draining (up to ${graceMs / 1000} s); a second ${signal} exits at once…`);
    const draining = gateway.drain({ graceMs });
    void heartbeat?.beat(); // fleet status shows "draining" now, not at the next beat
    const drained = await draining;
    log.info("gateway.drained", { ...drained });
    console.log("Recondo is shutting down…");
    await gateway.close();
    await uiListener?.close();
    await ui?.close();
    await stopRetention?.();
    await heartbeat?.stop();
    await wiring.shutdown();
    Deno.exit(0);
  },
};

/** `/readyz` check: the database answers a trivial query. */
function databaseReadiness(db: Db): () => Promise<string[]> {
  return async () => {
    try {
      await db.query("SELECT 1 AS ok");
      return [];
    } catch (error) {
      return [`database unreachable: ${(error as Error).message}`];
    }
  };
}
