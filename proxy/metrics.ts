/**
 * Prometheus metrics for `/metrics`, on `prom-client` (the library most Node services expose metrics
 * with). One registry per gateway, so tests running several gateways do not mix counts.
 * @module
 */
import client from "prom-client";

const LATENCY_BUCKETS = [
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
  300,
];

/** Creates the gateway's metric set. `extra` lets other subsystems (capture backlog) add gauges. */
export function createMetrics() {
  const registry = new client.Registry();
  const registers = [registry];
  return {
    registry,
    connections: new client.Counter({
      name: "recondo_connections_total",
      help: "Client connections accepted, by how they were handled",
      labelNames: ["kind"] as const,
      registers,
    }),
    openConnections: new client.Gauge({
      name: "recondo_open_connections",
      help: "Client connections currently open",
      registers,
    }),
    exchanges: new client.Counter({
      name: "recondo_exchanges_total",
      help: "Intercepted exchanges, by provider, status and outcome",
      labelNames: ["provider", "status", "outcome"] as const,
      registers,
    }),
    bytes: new client.Counter({
      name: "recondo_bytes_total",
      help: "Body bytes relayed through intercepted exchanges",
      labelNames: ["direction"] as const,
      registers,
    }),
    decisions: new client.Counter({
      name: "recondo_policy_decisions_total",
      help: "Policy hook decisions, by policy and kind",
      labelNames: ["policy", "kind", "enforced"] as const,
      registers,
    }),
    upstreamLatency: new client.Histogram({
      name: "recondo_upstream_first_byte_seconds",
      help: "Time from receiving a request to the upstream's response head",
      labelNames: ["provider"] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    exchangeDuration: new client.Histogram({
      name: "recondo_exchange_duration_seconds",
      help: "Time from receiving a request to the end of its response",
      labelNames: ["provider"] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    configReloads: new client.Counter({
      name: "recondo_config_reloads_total",
      help: "Policy chain reloads, by result",
      labelNames: ["result"] as const,
      registers,
    }),
    /** Adds a gauge whose value is read at scrape time, e.g. the capture backlog. */
    gaugeFrom(name: string, help: string, read: () => number) {
      new client.Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    },
    /**
     * Adds a counter whose total is read at scrape time from a count kept elsewhere (the capture worker's
     * OpenTelemetry export); a count that starts over (a replaced worker) reads as a counter reset.
     */
    counterFrom(name: string, help: string, read: () => number) {
      new client.Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    },
    /** As `counterFrom`, with one label: `read` returns label value → total. */
    labelledCounterFrom(name: string, help: string, label: string, read: () => Record<string, number>) {
      new client.Counter({
        name,
        help,
        labelNames: [label],
        registers,
        collect() {
          this.reset();
          for (const [value, total] of Object.entries(read())) this.inc({ [label]: value }, total);
        },
      });
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
