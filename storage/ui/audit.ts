/**
 * The UI's audit log (`ui_audit`, append-only): every change made through the UI, with who made it and
 * the value before and after, so a reviewer can see exactly what moved.
 * @module
 */
import type { Queryable } from "../db/db.ts";

/** One audited change. */
export interface AuditEntry {
  id: string;
  at: number;
  actor: string;
  action: string;
  target: string;
  before: unknown;
  after: unknown;
}

/** Appends a change; `before`/`after` are stored as JSON. */
export async function appendAudit(
  db: Queryable,
  entry: { actor: string; action: string; target: string; before?: unknown; after?: unknown },
  now = Date.now(),
): Promise<void> {
  await db.run(
    `INSERT INTO ui_audit (id, at, actor, action, target, before_value, after_value)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      crypto.randomUUID(),
      now,
      entry.actor,
      entry.action,
      entry.target,
      entry.before === undefined ? null : JSON.stringify(entry.before),
      entry.after === undefined ? null : JSON.stringify(entry.after),
    ],
  );
}

/** The newest changes first. */
export async function listAudit(db: Queryable, limit = 100): Promise<AuditEntry[]> {
  const rows = await db.query("SELECT * FROM ui_audit ORDER BY at DESC, id DESC LIMIT $1", [limit]);
  return rows.map((r) => ({
    id: String(r.id),
    at: Number(r.at),
    actor: String(r.actor),
    action: String(r.action),
    target: String(r.target),
    before: r.before_value === null ? null : JSON.parse(String(r.before_value)),
    after: r.after_value === null ? null : JSON.parse(String(r.after_value)),
  }));
}
