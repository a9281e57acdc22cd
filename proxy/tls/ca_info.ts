/**
 * A plain description of a CA certificate — what `recondo ca show` prints and what an admin compares
 * against the fingerprint their clients trust. Reads only the public certificate, never the key.
 * @module
 */
import forge from "node-forge";
import { decodeNameConstraints, NAME_CONSTRAINTS_OID, type NameConstraints } from "./name_constraints.ts";
import { distinguishedName, fingerprintSha256 } from "./x509.ts";

/** What `recondo ca show --json` prints (plus the CLI's own fields). */
export interface CaDescription {
  subject: string;
  serial: string;
  /** SHA-256 over the DER certificate, `AB:CD:…`. */
  fingerprintSha256: string;
  notBefore: string;
  notAfter: string;
  /** Whole days until `notAfter` (negative once expired). */
  daysLeft: number;
  /** `null` when the certificate has no name constraints extension (then it can sign for any name). */
  constraints: (NameConstraints & { critical: boolean }) | null;
}

/** Describes the CA certificate in `pem`, as of `now`. */
export function describeCa(pem: string, now: Date = new Date()): CaDescription {
  const cert = forge.pki.certificateFromPem(pem);
  const extension = cert.extensions.find((e: { id?: string }) => e.id === NAME_CONSTRAINTS_OID) as
    | { value: string; critical?: boolean }
    | undefined;
  return {
    subject: distinguishedName(cert.subject),
    serial: cert.serialNumber,
    fingerprintSha256: fingerprintSha256(cert),
    notBefore: cert.validity.notBefore.toISOString(),
    notAfter: cert.validity.notAfter.toISOString(),
    daysLeft: Math.floor((cert.validity.notAfter.getTime() - now.getTime()) / 86_400_000),
    constraints: extension
      ? { ...decodeNameConstraints(extension.value), critical: extension.critical === true }
      : null,
  };
}
