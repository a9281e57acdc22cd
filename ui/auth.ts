/**
 * UI login: local accounts (scrypt hashes in `ui_users`) or, while no account exists, a bootstrap token
 * written once to `<data dir>/ui-bootstrap-token` (mode 0600), whose path (not the token) is logged.
 * Sessions live in `ui_sessions` under the SHA-256 of the cookie value, expire after `idleMs` without use
 * and at the latest `absoluteMs` after login, and carry their own CSRF token.
 * @module
 */
import { join } from "node:path";
import { log } from "../core/log.ts";
import type { Db } from "../storage/db/db.ts";
import {
  deleteExpiredLoginSessions,
  deleteLoginSession,
  findLoginSession,
  insertLoginSession,
  touchLoginSession,
} from "../storage/ui/login_sessions.ts";
import { countUsers, findUser, type UiRole } from "../storage/ui/users.ts";
import { cookie, randomToken, readCookie, sameToken } from "../routes/_lib/cookies.ts";
import type { UiUser } from "../routes/_lib/context.ts";
import { verifyPassword } from "./password.ts";
import { SSO_PREFIX } from "./sso_roles.ts";

/** The session cookie's name. */
export const SESSION_COOKIE = "recondo_ui";
/** Wrong passwords allowed per account name within `LOCK_WINDOW_MS` before it is locked for the rest of it. */
export const MAX_FAILURES = 5;
const LOCK_WINDOW_MS = 15 * 60_000;
/** The account name a bootstrap-token login gets. */
export const BOOTSTRAP_USER = "bootstrap";

/** Options of `createAuth`. */
export interface AuthOptions {
  db: Db;
  dataDir: string;
  /** Session ends after this long without a request (default 2 h). */
  idleMs?: number;
  /** Session ends this long after login whatever happens (default 12 h). */
  absoluteMs?: number;
  now?: () => number;
}

/** Login, logout and session lookup. */
export interface Auth {
  login(name: string, password: string): Promise<{ cookie: string } | null>;
  logout(req: Request): Promise<string>;
  currentUser(req: Request): Promise<UiUser | null>;
  /** Starts a session for a single sign-on user (`sso:` name, role from the ID token's groups). */
  startSsoSession(name: string, role: UiRole): Promise<{ cookie: string }>;
  /** The bootstrap token while no account exists, else `null`. */
  bootstrapToken(): Promise<string | null>;
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Reads the bootstrap token, creating it (and logging where it is, once) when missing. */
async function loadOrCreateBootstrapToken(dataDir: string): Promise<string> {
  const file = join(dataDir, "ui-bootstrap-token");
  try {
    return (await Deno.readTextFile(file)).trim();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const token = randomToken(24);
  await Deno.mkdir(dataDir, { recursive: true });
  await Deno.writeTextFile(file, `${token}\n`, { mode: 0o600, createNew: true });
  await Deno.chmod(file, 0o600);
  // The path, never the token: logs leave the machine, and the token is an admin login until an account exists.
  log.info("ui.bootstrap_token", {
    file,
    message: "log in to the UI with the token in this file until you create an account (recondo user add)",
  });
  return token;
}

/** Builds the login service; creates the bootstrap token when the database has no account. */
export async function createAuth(options: AuthOptions): Promise<Auth> {
  const { db } = options;
  const now = options.now ?? Date.now;
  const idleMs = options.idleMs ?? 2 * 3_600_000;
  const absoluteMs = options.absoluteMs ?? 12 * 3_600_000;
  const bootstrapToken = async () =>
    (await countUsers(db)) === 0 ? await loadOrCreateBootstrapToken(options.dataDir) : null;
  await bootstrapToken();
  await deleteExpiredLoginSessions(db, now());

  async function startSession(name: string, role: UiRole): Promise<{ cookie: string }> {
    const id = randomToken(32);
    const at = now();
    await insertLoginSession(db, {
      idHash: await sha256Hex(id),
      userName: name,
      role,
      csrfToken: randomToken(24),
      createdAt: at,
      lastSeenAt: at,
      expiresAt: Math.min(at + idleMs, at + absoluteMs),
    });
    log.info("ui.login", { user: name, role });
    return { cookie: cookie(SESSION_COOKIE, id, Math.round(absoluteMs / 1000)) };
  }

  // Password guessing: after MAX_FAILURES wrong attempts on one name within the window, that name is
  // refused (whatever the password) until the window ends. In memory: a restart forgets, scrypt still slows.
  const failures = new Map<string, { count: number; since: number }>();
  const locked = (name: string, at: number) => {
    const f = failures.get(name);
    if (f && at - f.since > LOCK_WINDOW_MS) failures.delete(name);
    return (failures.get(name)?.count ?? 0) >= MAX_FAILURES;
  };
  const fail = (name: string, at: number) => {
    const f = failures.get(name) ?? { count: 0, since: at };
    f.count++;
    failures.set(name, f);
    if (failures.size > 10_000) failures.delete(failures.keys().next().value!);
  };

  return {
    bootstrapToken,
    startSsoSession: startSession,
    async login(name, password) {
      const at = now();
      if (locked(name, at)) {
        log.warn("ui.login_locked", { user: name.slice(0, 64) });
        return null;
      }
      const user = name ? await findUser(db, name) : null;
      if (user && await verifyPassword(password, user.passwordHash)) {
        failures.delete(name);
        return startSession(user.name, user.role);
      }
      const token = await bootstrapToken();
      if (token && (name === "" || name === BOOTSTRAP_USER) && sameToken(password, token)) {
        failures.delete(name);
        return startSession(BOOTSTRAP_USER, "admin");
      }
      fail(name, at);
      log.warn("ui.login_failed", { user: name.slice(0, 64) });
      return null;
    },
    async logout(req) {
      const id = readCookie(req, SESSION_COOKIE);
      if (id) await deleteLoginSession(db, await sha256Hex(id));
      return cookie(SESSION_COOKIE, "", 0);
    },
    async currentUser(req) {
      const id = readCookie(req, SESSION_COOKIE);
      if (!id) return null;
      const at = now();
      const session = await findLoginSession(db, await sha256Hex(id), at);
      if (!session) return null;
      if (at - session.lastSeenAt > 60_000) {
        await touchLoginSession(
          db,
          session.idHash,
          at,
          Math.min(at + idleMs, session.createdAt + absoluteMs),
        );
      }
      // The role is read afresh, so a demoted or removed account loses its rights at once.
      let role: UiRole;
      if (session.userName.startsWith(SSO_PREFIX)) {
        // No local account: the role the provider's groups gave at login holds until the session ends.
        role = session.role;
      } else if (session.userName === BOOTSTRAP_USER) {
        if ((await countUsers(db)) > 0) return null;
        role = "admin";
      } else {
        const user = await findUser(db, session.userName);
        if (!user) return null;
        role = user.role;
      }
      const sso = session.userName.startsWith(SSO_PREFIX);
      return { name: session.userName, role, csrf: session.csrfToken, ...(sso ? { sso } : {}) };
    },
  };
}
