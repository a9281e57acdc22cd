/**
 * UI login sessions (`ui_sessions`). The cookie carries a random id; only its SHA-256 is stored, so a
 * database reader cannot log in. Each session has its own CSRF token and an absolute expiry.
 * @module
 */
import type { Queryable } from "../db/db.ts";
import type { UiRole } from "./users.ts";

/** A live login session. */
export interface LoginSession {
  idHash: string;
  userName: string;
  role: UiRole;
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
}

/** Stores a new session. */
export async function insertLoginSession(db: Queryable, session: LoginSession): Promise<void> {
  await db.run(
    `INSERT INTO ui_sessions (id_hash, user_name, role, csrf_token, created_at, last_seen_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      session.idHash,
      session.userName,
      session.role,
      session.csrfToken,
      session.createdAt,
      session.lastSeenAt,
      session.expiresAt,
    ],
  );
}

/** The unexpired session with this id hash, or `null`. */
export async function findLoginSession(
  db: Queryable,
  idHash: string,
  now = Date.now(),
): Promise<LoginSession | null> {
  const [r] = await db.query("SELECT * FROM ui_sessions WHERE id_hash = $1 AND expires_at > $2", [
    idHash,
    now,
  ]);
  if (!r) return null;
  return {
    idHash: String(r.id_hash),
    userName: String(r.user_name),
    role: r.role === "admin" ? "admin" : "viewer",
    csrfToken: String(r.csrf_token),
    createdAt: Number(r.created_at),
    lastSeenAt: Number(r.last_seen_at),
    expiresAt: Number(r.expires_at),
  };
}

/** Moves the idle deadline forward (never past the absolute one, which the caller computes). */
export async function touchLoginSession(
  db: Queryable,
  idHash: string,
  lastSeenAt: number,
  expiresAt: number,
): Promise<void> {
  await db.run("UPDATE ui_sessions SET last_seen_at = $2, expires_at = $3 WHERE id_hash = $1", [
    idHash,
    lastSeenAt,
    expiresAt,
  ]);
}

/** Logs out one session. */
export async function deleteLoginSession(db: Queryable, idHash: string): Promise<void> {
  await db.run("DELETE FROM ui_sessions WHERE id_hash = $1", [idHash]);
}

/** Drops expired sessions; returns how many. */
export function deleteExpiredLoginSessions(db: Queryable, now = Date.now()): Promise<number> {
  return db.run("DELETE FROM ui_sessions WHERE expires_at <= $1", [now]);
}
