/**
 * UI accounts (`ui_users`): a name, a role and a password hash (the hash format belongs to `ui/password.ts`;
 * this module stores it opaquely). `recondo user add` and the login page go through here.
 * @module
 */
import type { Queryable } from "../db/db.ts";

/** What a UI account may do: `admin` edits, `viewer` reads. */
export type UiRole = "admin" | "viewer";

/** A stored account. */
export interface UiUser {
  name: string;
  role: UiRole;
  passwordHash: string;
  createdAt: number;
}

/** Creates the account or, when it exists, replaces its role and password (so `user add` can reset). */
export async function upsertUser(
  db: Queryable,
  user: { name: string; role: UiRole; passwordHash: string },
  now = Date.now(),
): Promise<"created" | "updated"> {
  const changed = await db.run(
    "UPDATE ui_users SET role = $2, password_hash = $3, updated_at = $4 WHERE name = $1",
    [user.name, user.role, user.passwordHash, now],
  );
  if (changed > 0) return "updated";
  await db.run(
    "INSERT INTO ui_users (name, role, password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)",
    [user.name, user.role, user.passwordHash, now],
  );
  return "created";
}

/** The account called `name`, or `null`. */
export async function findUser(db: Queryable, name: string): Promise<UiUser | null> {
  const [row] = await db.query("SELECT * FROM ui_users WHERE name = $1", [name]);
  if (!row) return null;
  return {
    name: String(row.name),
    role: row.role === "admin" ? "admin" : "viewer",
    passwordHash: String(row.password_hash),
    createdAt: Number(row.created_at),
  };
}

/** Every account, by name (no hashes). */
export async function listUsers(db: Queryable): Promise<{ name: string; role: UiRole; createdAt: number }[]> {
  const rows = await db.query("SELECT name, role, created_at FROM ui_users ORDER BY name");
  return rows.map((r) => ({
    name: String(r.name),
    role: r.role === "admin" ? "admin" : "viewer",
    createdAt: Number(r.created_at),
  }));
}

/** How many accounts exist; zero means the bootstrap token is the only way in. */
export async function countUsers(db: Queryable): Promise<number> {
  const [row] = await db.query("SELECT COUNT(*) AS n FROM ui_users");
  return Number(row?.n ?? 0);
}
