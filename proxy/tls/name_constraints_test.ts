import assert from "node:assert/strict";
import forge from "node-forge";
import {
  decodeNameConstraints,
  domainsPermit,
  encodeNameConstraints,
  NAME_CONSTRAINTS_OID,
  normalizeDomains,
} from "./name_constraints.ts";

function hex(binary: string): string {
  return [...binary].map((c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("");
}

Deno.test("the extension value is the DER of permitted dNSName and excluded all-IP subtrees", () => {
  // Worked by hand from RFC 5280's ASN.1 (IMPLICIT tags): SEQUENCE { [0] { SEQUENCE { [2] "a.io" } },
  // [1] { SEQUENCE { [7] 0.0.0.0/0 }, SEQUENCE { [7] ::/0 } } }.
  const expected = "303c" + "a008" + "3006" + "8204" + "612e696f" +
    "a130" + "300a" + "8708" + "00".repeat(8) + "3022" + "8720" + "00".repeat(32);
  assert.equal(hex(encodeNameConstraints(["a.io"])), expected);
});

Deno.test("decoding an encoded extension gives back the domains and the excluded ranges", () => {
  const decoded = decodeNameConstraints(
    encodeNameConstraints(["API.openai.com", "chatgpt.com", "chatgpt.com."]),
  );
  assert.deepEqual(decoded, {
    permittedDns: ["api.openai.com", "chatgpt.com"],
    excludedIp: ["0.0.0.0/0", "::/0"],
    other: [],
  });
});

Deno.test("node-forge parses the raw extension we add into the same subtrees", () => {
  const keys = forge.pki.rsa.generateKeyPair(512);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.setExtensions([{ id: NAME_CONSTRAINTS_OID, critical: true, value: encodeNameConstraints(["a.io"]) }]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  const parsed = forge.pki.certificateFromPem(forge.pki.certificateToPem(cert));
  const extension = parsed.getExtension("nameConstraints") as {
    critical: boolean;
    permittedSubtrees: { type: number; value: string }[];
    excludedSubtrees: { type: number; value: string }[];
  };
  assert.equal(extension.critical, true);
  assert.deepEqual(extension.permittedSubtrees, [{ type: 2, value: "a.io" }]);
  assert.deepEqual(extension.excludedSubtrees.map((s) => [s.type, s.value.length]), [[7, 8], [7, 32]]);
});

Deno.test("domains are lower-cased, stripped of a trailing dot, sorted and deduplicated", () => {
  assert.deepEqual(normalizeDomains(["b.example.com", "A.example.com.", "a.example.com"]), [
    "a.example.com",
    "b.example.com",
  ]);
});

Deno.test("an IP address, a bare label or a wildcard cannot become a permitted domain", () => {
  assert.throws(() => normalizeDomains(["10.0.0.1"]), /"10.0.0.1": it is an IP address/);
  assert.throws(() => normalizeDomains(["::1"]), /IP address/);
  assert.throws(() => normalizeDomains(["com"]), /"com": it must be a host name/);
  assert.throws(() => normalizeDomains(["*.example.com"]), /"\*\.example\.com"/);
  assert.throws(() => normalizeDomains([".example.com"]), /".example.com"/);
  assert.throws(() => encodeNameConstraints([]), /empty list/);
});

Deno.test("a domain permits itself and names below it, as RFC 5280 dNSName subtrees match", () => {
  const domains = ["api.openai.com"];
  assert.equal(domainsPermit(domains, "api.openai.com"), true);
  assert.equal(domainsPermit(domains, "API.OpenAI.com."), true);
  assert.equal(domainsPermit(domains, "eu.api.openai.com"), true);
  assert.equal(domainsPermit(domains, "xapi.openai.com"), false);
  assert.equal(domainsPermit(domains, "openai.com"), false);
  assert.equal(domainsPermit(domains, "api.openai.com.evil.com"), false);
  assert.equal(domainsPermit(domains, ""), false);
});
