/**
 * Starts a real gateway in-process for end-to-end tests: a temp data dir, a config file written from the
 * given object, upstream overrides pointing at test servers, and a client that trusts the gateway's CA.
 */
import { join } from "node:path";
import type { CaptureSink } from "../../capture/sink.ts";
import { type Gateway, startGateway } from "../../proxy/gateway.ts";
import type { Parsers } from "../../proxy/exchange_handler.ts";
import type { PolicyServices } from "../../policies/types.ts";
import type { ControlSource } from "../../config/control.ts";

export interface TestGateway extends Gateway {
  dataDir: string;
  configFile: string;
  caPem: string;
  /** A fetch client that proxies through the gateway and trusts its CA. */
  client: Deno.HttpClient;
  writeConfig(config: Record<string, unknown>): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface TestGatewayOptions {
  config?: Record<string, unknown>;
  /** host → origin, as RECONDO_UPSTREAM_OVERRIDE. */
  overrides?: Record<string, string>;
  sink?: CaptureSink;
  parsers?: Parsers | null;
  env?: Record<string, string>;
  watch?: boolean;
  /** Proxy credentials for the test client, `name:token`. */
  proxyAuth?: string;
  /** What policies need from below (spend ledger, rate limiter), as `cli/wiring.ts` would inject. */
  services?: PolicyServices;
  /** Builds the control source from the config file's path (default: the plain config file). */
  control?: (configFile: string) => ControlSource;
}

export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const dataDir = await Deno.makeTempDir({ prefix: "recondo-test-" });
  const configFile = join(dataDir, "recondo.json");
  const writeConfig = (config: Record<string, unknown>) =>
    Deno.writeTextFile(configFile, JSON.stringify(config, null, 2));
  await writeConfig({ listen: "127.0.0.1:0", ...options.config });
  const vars: Record<string, string> = {
    RECONDO_UPSTREAM_OVERRIDE: Object.entries(options.overrides ?? {}).map(([h, o]) => `${h}=${o}`).join(","),
    ...options.env,
  };
  const gateway = await startGateway({
    dataDir,
    configPath: configFile,
    env: { get: (name) => vars[name] },
    sink: options.sink,
    parsers: options.parsers,
    services: options.services,
    watch: options.watch ?? false,
    control: options.control?.(configFile),
  });
  const caPem = await Deno.readTextFile(gateway.caCertPath);
  const proxyUrl = options.proxyAuth
    ? `http://${options.proxyAuth}@${gateway.hostname}:${gateway.port}`
    : gateway.proxyUrl;
  const client = Deno.createHttpClient({ caCerts: [caPem], proxy: { url: proxyUrl } });
  const close = async () => {
    client.close();
    await gateway.close();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  };
  return { ...gateway, dataDir, configFile, caPem, client, writeConfig, close, [Symbol.asyncDispose]: close };
}

/** A plain-HTTP upstream on loopback for overrides; `handler` sees the request as the gateway forwarded it. */
export function startUpstream(handler: (req: Request) => Response | Promise<Response>) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  return {
    origin: `http://127.0.0.1:${server.addr.port}`,
    port: server.addr.port,
    close: () => server.shutdown(),
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** Sends raw bytes to a TCP port and returns everything read until the peer closes (or `timeoutMs`). */
export async function rawExchange(
  port: number,
  bytes: Uint8Array | string,
  timeoutMs = 5000,
): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  await conn.write(data).catch(() => 0);
  const chunks: Uint8Array[] = [];
  const timer = setTimeout(() => conn.close(), timeoutMs);
  try {
    const buffer = new Uint8Array(65536);
    while (true) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
    }
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // closed by the timer or the peer
    }
  }
  return new TextDecoder().decode(await new Blob(chunks as BlobPart[]).arrayBuffer());
}
