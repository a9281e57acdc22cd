/**
 * AWS SigV4 signs a request over its body and its `SignedHeaders` (Bedrock with real credentials: the
 * `authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` header). A `modify` verdict
 * that changes the body or a signed header would make AWS reject the request as tampered with, so the chain
 * never applies one: in enforce mode it becomes a block that says why, in observe mode it is recorded only
 * (as every observe verdict is), with a detail saying it could not have been applied.
 * @module
 */
import type { RequestPatch } from "./types.ts";

const SIGV4 = /^AWS4-HMAC-SHA256\s/i;

/** The lower-case names a SigV4 `authorization` header signs, or null when the request is not SigV4-signed. */
export function sigV4SignedHeaders(headers: Record<string, string>): Set<string> | null {
  const authorization = headers["authorization"] ?? headers["Authorization"];
  if (!authorization || !SIGV4.test(authorization)) return null;
  const list = /SignedHeaders=([^,\s]+)/i.exec(authorization)?.[1] ?? "";
  return new Set(list.toLowerCase().split(";").filter(Boolean));
}

/**
 * Why `patch` cannot be applied to a request with these headers without breaking its signature, or null
 * when it can (the request is not signed, or the patch only reroutes it or touches unsigned headers).
 * @example unsignablePatch({ authorization: "AWS4-HMAC-SHA256 Credential=…" }, { json: {} }) // "it changes the signed body"
 */
export function unsignablePatch(headers: Record<string, string>, patch: RequestPatch): string | null {
  const signed = sigV4SignedHeaders(headers);
  if (!signed) return null;
  if (patch.json !== undefined) return "it changes the signed body";
  const touched = Object.keys(patch.headers ?? {}).map((name) => name.toLowerCase()).filter((name) =>
    signed.has(name)
  );
  return touched.length > 0
    ? `it changes the signed header${touched.length > 1 ? "s" : ""} ${touched.join(", ")}`
    : null;
}
