/**
 * `LISTEN` on a PostgreSQL channel with a dedicated connection (a pooled one would be handed to other
 * queries). A dropped connection is re-opened with backoff, and `onReconnect` fires after each re-open,
 * because notifications sent while it was down are lost: the caller re-checks what it follows then.
 * @module
 */
// @ts-types="@types/pg"
import pg from "pg";
import { log } from "../../core/log.ts";

/** Options of {@link listenPostgres}. */
export interface ListenOptions {
  onNotify(payload: string): void;
  /** After a dropped connection is back (not on the first connect). */
  onReconnect?(): void;
  /** Longest pause between reconnection attempts (default 5 s). */
  maxBackoffMs?: number;
}

/** Listens on `channel` until `close()`; resolves once the first `LISTEN` is in place. */
export async function listenPostgres(
  url: string,
  channel: string,
  options: ListenOptions,
): Promise<{ close(): Promise<void> }> {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new TypeError(`Invalid channel name "${channel}"`);
  let closed = false;
  let client: pg.Client | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let backoff = 100;
  const maxBackoff = options.maxBackoffMs ?? 5_000;

  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: url });
    next.on("notification", (message) => {
      if (message.channel === channel) options.onNotify(message.payload ?? "");
    });
    const lost = (error?: Error) => {
      if (closed || client !== next) return;
      client = null;
      log.warn("db.listen_lost", { channel, reason: error?.message ?? "connection ended" });
      next.end().catch(() => {});
      schedule();
    };
    next.on("error", lost);
    next.on("end", () => lost());
    await next.connect();
    await next.query(`LISTEN ${channel}`);
    client = next;
    backoff = 100;
  };
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      if (closed) return;
      try {
        await connect();
        log.info("db.listen_restored", { channel });
        options.onReconnect?.();
      } catch (error) {
        log.warn("db.listen_retry", { channel, reason: (error as Error).message, inMs: backoff });
        backoff = Math.min(backoff * 2, maxBackoff);
        schedule();
      }
    }, backoff);
  };

  await connect();
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      const current = client;
      client = null;
      await current?.end().catch(() => {});
    },
  };
}
