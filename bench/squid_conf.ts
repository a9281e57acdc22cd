/**
 * squid.conf for the benchmark's compiled TLS-intercepting peer: Debian's `squid-openssl` with ssl-bump
 * (peek at step 1, bump everything), no cache, no access log, forwarding every bumped request to the
 * benchmark's local HTTPS upstream. Pure text, so the settings that matter are tested without a squid.
 *
 * How to run it here (measured on these machines and re-checked for this benchmark): as root squid needs
 * `cache_effective_user proxy` and a state directory owned by `proxy`; each instance gets its own service
 * name (`squid -N -n <name>`), or a second start fails on the shared-memory segments the first left in
 * /dev/shm; the certificate database must exist before start (`security_file_certgen -c`).
 * @module
 */
import { join } from "node:path";

/** Where Debian's squid-openssl keeps its certificate helper. */
export const CERTGEN = "/usr/lib/squid/security_file_certgen";

/** Inputs of `renderSquidConf`; every path is absolute. */
export interface SquidConfOptions {
  /** Loopback port squid listens on for CONNECT. */
  port: number;
  /** State directory (owned by `proxy`): certificate DB, pid file, cache.log, hosts file. */
  stateDir: string;
  /** PEM of the CA squid signs host certificates with, and its key. */
  caCertFile: string;
  caKeyFile: string;
  /** The local upstream every bumped request goes to, and the CA its certificate chains to. */
  upstream: { host: string; port: number; caFile: string };
  /** The intercepted host (SNI, Host), which the upstream's certificate also names. */
  interceptedHost: string;
}

/** The certificate database squid's helper keeps host certificates in. */
export function squidSslDb(stateDir: string): string {
  return join(stateDir, "ssl_db");
}

/**
 * The configuration text. squid has no way to send a bumped `api.anthropic.com:443` to another port short of
 * a URL-rewriting helper (an origin-server `cache_peer` takes the bumped requests but not the CONNECT that
 * peeking forwards first: "found all 0 destinations", 502), so its clients CONNECT to
 * `api.anthropic.com:<upstream port>` and `hosts_file` puts that name on the upstream's address; squid then
 * connects straight to the upstream and checks its certificate against `upstream.caFile`. No DNS server is
 * asked.
 * @example
 * await Deno.writeTextFile(confFile, renderSquidConf({ port, stateDir, caCertFile, caKeyFile, upstream, interceptedHost }));
 */
export function renderSquidConf(options: SquidConfOptions): string {
  const { port, stateDir, upstream } = options;
  const db = squidSslDb(stateDir);
  return [
    "# Written by bench/squid_conf.ts for one benchmark run.",
    `http_port 127.0.0.1:${port} ssl-bump tls-cert=${options.caCertFile} tls-key=${options.caKeyFile} ` +
    "generate-host-certificates=on dynamic_cert_mem_cache_size=16MB",
    `sslcrtd_program ${CERTGEN} -s ${db} -M 16MB`,
    "acl step1 at_step SslBump1",
    "ssl_bump peek step1",
    "ssl_bump bump all",
    `tls_outgoing_options cafile=${upstream.caFile}`,
    "http_access allow all",
    "cache deny all",
    "cache_mem 0 MB",
    "access_log none",
    "cache_store_log none",
    `cache_log ${join(stateDir, "cache.log")}`,
    `pid_filename ${join(stateDir, "squid.pid")}`,
    `coredump_dir ${stateDir}`,
    `hosts_file ${join(stateDir, "hosts")}`,
    "pinger_enable off",
    "cache_effective_user proxy",
    "visible_hostname recondo-bench-squid",
    "shutdown_lifetime 0 seconds",
    "",
  ].join("\n");
}

/** The `hosts_file` content: the intercepted host on the upstream's address. */
export function renderSquidHosts(options: Pick<SquidConfOptions, "upstream" | "interceptedHost">): string {
  return `${options.upstream.host} ${options.interceptedHost}\n`;
}
