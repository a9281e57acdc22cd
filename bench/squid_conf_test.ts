import assert from "node:assert/strict";
import { CERTGEN, renderSquidConf, renderSquidHosts, squidSslDb } from "./squid_conf.ts";

const options = {
  port: 3128,
  stateDir: "/tmp/run/squid",
  caCertFile: "/tmp/run/squid/ca.pem",
  caKeyFile: "/tmp/run/squid/ca.key",
  upstream: { host: "127.0.0.1", port: 4443, caFile: "/tmp/run/squid/upstream-ca.pem" },
  interceptedHost: "api.anthropic.com",
};

Deno.test("squid.conf bumps every CONNECT on loopback with its own CA and a certificate helper", () => {
  const lines = renderSquidConf(options).split("\n");
  assert.ok(lines.includes(
    "http_port 127.0.0.1:3128 ssl-bump tls-cert=/tmp/run/squid/ca.pem tls-key=/tmp/run/squid/ca.key " +
      "generate-host-certificates=on dynamic_cert_mem_cache_size=16MB",
  ));
  assert.ok(lines.includes(`sslcrtd_program ${CERTGEN} -s /tmp/run/squid/ssl_db -M 16MB`));
  const bump = lines.filter((l) => /^(acl step1|ssl_bump)/.test(l));
  assert.deepEqual(bump, ["acl step1 at_step SslBump1", "ssl_bump peek step1", "ssl_bump bump all"]);
  assert.equal(squidSslDb(options.stateDir), "/tmp/run/squid/ssl_db");
});

Deno.test("squid.conf trusts the upstream's CA and keeps no cache, no access log and no pinger", () => {
  const lines = renderSquidConf(options).split("\n");
  for (
    const line of [
      "tls_outgoing_options cafile=/tmp/run/squid/upstream-ca.pem",
      "http_access allow all",
      "cache deny all",
      "access_log none",
      "pinger_enable off",
      "hosts_file /tmp/run/squid/hosts",
    ]
  ) assert.ok(lines.includes(line), line);
});

Deno.test("squid.conf runs as proxy with a visible hostname and its files in the state directory", () => {
  const conf = renderSquidConf(options);
  assert.match(conf, /^cache_effective_user proxy$/m);
  assert.match(conf, /^visible_hostname \S+$/m);
  assert.match(conf, /^pid_filename \/tmp\/run\/squid\/squid\.pid$/m);
  assert.match(conf, /^cache_log \/tmp\/run\/squid\/cache\.log$/m);
});

Deno.test("squid's hosts file puts the intercepted host on the upstream's address", () => {
  assert.equal(renderSquidHosts(options), "127.0.0.1 api.anthropic.com\n");
});
