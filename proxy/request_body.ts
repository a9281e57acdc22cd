/**
 * Request bodies: streamed through untouched (tapped for capture) unless a policy asks to see them
 * whole, in which case they are read up to a limit and refused with 413 beyond it.
 * @module
 */

export type BufferedBody = { ok: true; bytes: Uint8Array } | { ok: false; tooLarge: true; limit: number };

/** Reads a whole body, stopping (and cancelling the stream) as soon as it passes `limit` bytes. */
export async function readBounded(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<BufferedBody> {
  if (!body) return { ok: true, bytes: new Uint8Array(0) };
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel("request body over limit").catch(() => {});
      return { ok: false, tooLarge: true, limit };
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return { ok: true, bytes: chunks[0] };
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { ok: true, bytes };
}

/** Whether the request declares a plain `content-length` of at most `limit` bytes. */
export function declaredLengthWithin(headers: Headers, limit: number): boolean {
  const declared = headers.get("content-length");
  if (declared === null || !/^\d+$/.test(declared)) return false;
  return Number(declared) <= limit;
}

/** Passes a body through unchanged while handing each chunk to `onChunk` (capture). */
export function tapStream(
  body: ReadableStream<Uint8Array>,
  onChunk: (chunk: Uint8Array) => void,
): ReadableStream<Uint8Array> {
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        controller.enqueue(chunk);
        onChunk(chunk);
      },
    }),
  );
}

/** Parses JSON bodies for policies; anything else (or invalid JSON) is `undefined`. */
export function jsonOf(bytes: Uint8Array | null, contentType: string | null): unknown {
  if (!bytes || bytes.byteLength === 0) return undefined;
  if (contentType && !contentType.includes("json")) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
}
