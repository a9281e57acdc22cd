/**
 * Where a browser goes after logging in.
 * @module
 */

/** Only local paths may follow a login, so `/login?next=https://evil` cannot redirect away. */
export function safeNext(value: string | null): string {
  return value && value.startsWith("/") && !value.startsWith("//") && !value.startsWith("/\\") ? value : "/";
}
