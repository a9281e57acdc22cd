/**
 * Security headers on every UI response. The CSP allows only same-origin scripts and styles (no inline
 * script: islands read their props from `data-props`), forbids framing and form posts elsewhere; over
 * HTTPS, HSTS and `Secure` cookies too.
 * @module
 */

const HEADERS: Record<string, string> = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "same-origin",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=()",
};

/** HSTS over HTTPS: a year, so a browser that once reached the UI securely never falls back to plain HTTP. */
const HSTS = "max-age=31536000";

/**
 * `response` with the secure headers set (pages are also marked no-store: they show captured content).
 * Over HTTPS (`https: true`) every cookie is also `Secure` and `Strict-Transport-Security` is sent; over
 * plain HTTP (loopback only) neither, since a browser would drop a `Secure` cookie set over `http:` on a
 * non-localhost name.
 */
export function withSecureHeaders(response: Response, options: { https?: boolean } = {}): Response {
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(HEADERS)) headers.set(name, value);
  if (options.https) {
    headers.set("strict-transport-security", HSTS);
    const cookies = headers.getSetCookie();
    headers.delete("set-cookie");
    for (const value of cookies) {
      headers.append("set-cookie", /;\s*secure\b/i.test(value) ? value : `${value}; Secure`);
    }
  }
  if ((headers.get("content-type") ?? "").startsWith("text/html")) headers.set("cache-control", "no-store");
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}
