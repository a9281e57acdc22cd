/**
 * The X.509 name constraints extension (RFC 5280 §4.2.1.10) that limits the Recondo CA to the intercepted
 * domains. node-forge can parse it but not build it, so it is encoded here with `forge.asn1`.
 *
 * What we emit, always marked critical:
 * - permitted dNSName subtrees, one per intercepted domain (a subtree covers the name and every name
 *   below it, so `api.openai.com` also covers `eu.api.openai.com`);
 * - excluded iPAddress subtrees `0.0.0.0/0` and `::/0`, because permitted dNSName subtrees say nothing
 *   about IP addresses: without the exclusion a leaked key could still sign for `https://10.0.0.1/`.
 *
 * @module
 */
import forge from "node-forge";

/** The OID of id-ce-nameConstraints. */
export const NAME_CONSTRAINTS_OID = "2.5.29.30";

/** The decoded content of a name constraints extension, as shown by `recondo ca show`. */
export interface NameConstraints {
  /** Permitted DNS name subtrees, e.g. `["api.anthropic.com"]`. */
  permittedDns: string[];
  /** Excluded IP ranges in CIDR notation, e.g. `["0.0.0.0/0", "::/0"]`. */
  excludedIp: string[];
  /** Any other subtree, described as `"<type> <value>"`; we never emit these. */
  other: string[];
}

const CONTEXT = forge.asn1.Class.CONTEXT_SPECIFIC;
const UNIVERSAL = forge.asn1.Class.UNIVERSAL;
const GENERAL_NAME_DNS = 2;
const GENERAL_NAME_IP = 7;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * Normalizes the intercept list into the domains a CA can permit: lower case, without a trailing dot,
 * sorted and without duplicates. Throws for anything that is not a DNS host name, because a CA issued
 * for it would either fail to cover it (an IP address) or cover more than intended (`.com`, `*`).
 */
export function normalizeDomains(hosts: readonly string[]): string[] {
  const out = new Set<string>();
  for (const raw of hosts) {
    const host = raw.trim().toLowerCase().replace(/\.$/, "");
    if (IPV4.test(host) || host.includes(":")) {
      throw new RangeError(
        `Cannot constrain the CA to "${raw}": it is an IP address, and the Recondo CA excludes all IP ` +
          `addresses so a leaked key cannot impersonate them; intercept host names only`,
      );
    }
    const labels = host.split(".");
    if (labels.length < 2 || host.length > 253 || !labels.every((label) => LABEL.test(label))) {
      throw new RangeError(
        `Cannot constrain the CA to "${raw}": it must be a host name with at least two labels, ` +
          `such as api.example.com`,
      );
    }
    out.add(host);
  }
  return [...out].sort();
}

/**
 * Whether `host` falls under one of the permitted `domains` the way RFC 5280 matches dNSName subtrees:
 * the host equals the domain or ends with `.` plus the domain. Case-insensitive; a trailing dot is
 * ignored. This is what TLS clients enforce, so a leaf we mint for any other name would be rejected.
 */
export function domainsPermit(domains: readonly string[], host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, "");
  if (name === "") return false;
  return domains.some((domain) => name === domain || name.endsWith(`.${domain}`));
}

/**
 * Encodes the extension value (the DER of the NameConstraints SEQUENCE, as a forge binary string) that
 * permits `domains` and excludes every IPv4 and IPv6 address. Add it to a certificate as
 * `{ id: NAME_CONSTRAINTS_OID, critical: true, value }`; forge wraps it in the OCTET STRING itself.
 */
export function encodeNameConstraints(domains: readonly string[]): string {
  const normalized = normalizeDomains(domains);
  if (normalized.length === 0) throw new RangeError("Cannot constrain the CA to an empty list of domains");
  const subtree = (type: number, value: string) =>
    forge.asn1.create(UNIVERSAL, forge.asn1.Type.SEQUENCE, true, [
      forge.asn1.create(CONTEXT, type, false, value),
    ]);
  const permitted = normalized.map((domain) => subtree(GENERAL_NAME_DNS, domain));
  // An iPAddress constraint is the address followed by the mask: all zeros means "every address".
  const excluded = [subtree(GENERAL_NAME_IP, "\0".repeat(8)), subtree(GENERAL_NAME_IP, "\0".repeat(32))];
  const value = forge.asn1.create(UNIVERSAL, forge.asn1.Type.SEQUENCE, true, [
    forge.asn1.create(CONTEXT, 0, true, permitted),
    forge.asn1.create(CONTEXT, 1, true, excluded),
  ]);
  return forge.asn1.toDer(value).getBytes();
}

/**
 * Decodes an extension value produced by {@link encodeNameConstraints} (or any other issuer) so the CLI
 * can show what a CA permits and the CA loader can tell which domains it covers.
 */
export function decodeNameConstraints(der: string): NameConstraints {
  const result: NameConstraints = { permittedDns: [], excludedIp: [], other: [] };
  const root = forge.asn1.fromDer(der);
  if (root.type !== forge.asn1.Type.SEQUENCE || !Array.isArray(root.value)) {
    throw new TypeError("Cannot decode name constraints: the value is not a SEQUENCE");
  }
  for (const trees of root.value) {
    if (trees.tagClass !== CONTEXT || (trees.type !== 0 && trees.type !== 1) || !Array.isArray(trees.value)) {
      throw new TypeError(`Cannot decode name constraints: unexpected element with tag ${trees.type}`);
    }
    const permitted = trees.type === 0;
    for (const subtree of trees.value) {
      const base = Array.isArray(subtree.value) ? subtree.value[0] : undefined;
      if (!base || typeof base.value !== "string") {
        throw new TypeError("Cannot decode name constraints: a subtree has no base name");
      }
      if (permitted && base.type === GENERAL_NAME_DNS) result.permittedDns.push(base.value);
      else if (!permitted && base.type === GENERAL_NAME_IP) result.excludedIp.push(ipRangeToCidr(base.value));
      else result.other.push(`${permitted ? "permitted" : "excluded"} type ${base.type}`);
    }
  }
  return result;
}

/** Turns an iPAddress constraint (address bytes then mask bytes) into `a.b.c.d/n` or `x:…/n`. */
function ipRangeToCidr(bytes: string): string {
  const half = bytes.length / 2;
  const address = [...bytes.slice(0, half)].map((c) => c.charCodeAt(0));
  const prefix = [...bytes.slice(half)].reduce((bits, c) => bits + popcount(c.charCodeAt(0)), 0);
  if (half === 4) return `${address.join(".")}/${prefix}`;
  const groups: string[] = [];
  for (let i = 0; i < address.length; i += 2) groups.push(((address[i] << 8) | address[i + 1]).toString(16));
  const text = groups.join(":").replace(/(^|:)0(:0)+(:|$)/, "::").replace(/:{3,}/, "::");
  return `${text}/${prefix}`;
}

function popcount(byte: number): number {
  let count = 0;
  for (let b = byte; b; b >>= 1) count += b & 1;
  return count;
}
