/**
 * The spend ledger of `spend-cap` in SQL, for SQLite and PostgreSQL. The database is the only source of
 * truth: a reservation is one conditional `UPDATE … WHERE spent + reserved + amount <= cap RETURNING` per
 * budget inside one transaction, so two replicas (or a hundred concurrent requests) can never admit more
 * than the cap. PostgreSQL's row lock makes the second writer re-check the condition against the first
 * one's committed row; SQLite serialises writers with `BEGIN IMMEDIATE`. Budgets are locked in key order
 * so multi-budget reservations cannot deadlock.
 * @module
 */
import type { Db, Queryable, Row } from "../db/db.ts";
import type {
  BudgetWindow,
  ReserveResult,
  Settlement,
  SpendLedger,
  WindowState,
} from "../../policies/spend_cap/ledger.ts";

const ENSURE = `INSERT INTO spend_budgets
  (budget_key, scope, period, period_start, period_end, spent_micros, reserved_micros, updated_at)
  VALUES ($1, $2, $3, $4, $5, 0, 0, $6) ON CONFLICT (budget_key) DO NOTHING`;

const RESERVE = `UPDATE spend_budgets SET reserved_micros = reserved_micros + $2, updated_at = $4
  WHERE budget_key = $1 AND spent_micros + reserved_micros + $2 <= $3
  RETURNING budget_key, spent_micros, reserved_micros`;

const SETTLE = `UPDATE spend_budgets SET spent_micros = spent_micros + $2,
  reserved_micros = reserved_micros - $3, updated_at = $4
  WHERE budget_key = $1 RETURNING spent_micros`;

const UNRESERVE = `UPDATE spend_budgets SET reserved_micros = reserved_micros - $2, updated_at = $3
  WHERE budget_key = $1`;

const TAKE_RESERVATION = `DELETE FROM spend_reservations WHERE reservation_id = $1
  RETURNING budget_key, amount_micros`;

/** Thrown inside the reserve transaction to roll it back; never escapes this module. */
class Refused extends Error {
  constructor(readonly key: string, readonly state: WindowState) {
    super(`budget ${key} cannot take the reservation`);
  }
}

function state(row: Row): WindowState {
  return {
    key: String(row.budget_key),
    spentMicros: Number(row.spent_micros),
    reservedMicros: Number(row.reserved_micros),
  };
}

function ensure(tx: Queryable, w: BudgetWindow, at: number) {
  return tx.run(ENSURE, [w.key, w.scope, w.period, w.start, w.end, at]);
}

function byKey<T extends { key: string }>(windows: readonly T[]): T[] {
  return [...windows].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

async function unreserve(tx: Queryable, reservationId: string): Promise<Map<string, number>> {
  const rows = await tx.query(TAKE_RESERVATION, [reservationId]);
  const amounts = new Map<string, number>();
  for (const row of rows) amounts.set(String(row.budget_key), Number(row.amount_micros));
  return amounts;
}

/**
 * A `SpendLedger` over `db` (migrated with `010_spend_ledger`).
 * @example const ledger = createSqlSpendLedger(db); await ledger.reserve(id, windows, 120_000, { at, expiresAt });
 */
export function createSqlSpendLedger(db: Db): SpendLedger {
  return {
    async reserve(reservationId, windows, amountMicros, { at, expiresAt }): Promise<ReserveResult> {
      try {
        const states = await db.transaction(async (tx) => {
          const out: WindowState[] = [];
          for (const w of byKey(windows)) {
            await ensure(tx, w, at);
            const rows = await tx.query(RESERVE, [w.key, amountMicros, w.capMicros, at]);
            if (rows.length === 0) {
              const [current] = await tx.query(
                "SELECT budget_key, spent_micros, reserved_micros FROM spend_budgets WHERE budget_key = $1",
                [w.key],
              );
              throw new Refused(w.key, state(current));
            }
            out.push(state(rows[0]));
            await tx.run(
              `INSERT INTO spend_reservations (reservation_id, budget_key, amount_micros, created_at, expires_at)
               VALUES ($1, $2, $3, $4, $5)`,
              [reservationId, w.key, amountMicros, at, expiresAt],
            );
          }
          return out;
        });
        return { ok: true, states };
      } catch (error) {
        if (error instanceof Refused) return { ok: false, key: error.key, state: error.state };
        throw error;
      }
    },

    settle(reservationId, windows, actualMicros, at): Promise<Settlement[]> {
      return db.transaction(async (tx) => {
        const reserved = await unreserve(tx, reservationId);
        const out: Settlement[] = [];
        for (const w of byKey(windows)) {
          await ensure(tx, w, at);
          const held = reserved.get(w.key) ?? 0;
          reserved.delete(w.key);
          const [row] = await tx.query(SETTLE, [w.key, actualMicros, held, at]);
          const after = Number(row.spent_micros);
          out.push({ key: w.key, spentBeforeMicros: after - actualMicros, spentAfterMicros: after });
        }
        for (const [key, held] of reserved) await tx.run(UNRESERVE, [key, held, at]);
        return out;
      });
    },

    async release(reservationId, at): Promise<void> {
      await db.transaction(async (tx) => {
        const reserved = await unreserve(tx, reservationId);
        for (const key of [...reserved.keys()].sort()) await tx.run(UNRESERVE, [key, reserved.get(key)!, at]);
      });
    },

    async releaseExpired(at): Promise<number> {
      const rows = await db.query(
        "SELECT DISTINCT reservation_id FROM spend_reservations WHERE expires_at < $1",
        [at],
      );
      for (const row of rows) await this.release(String(row.reservation_id), at);
      return rows.length;
    },

    async read(keys): Promise<WindowState[]> {
      if (keys.length === 0) return [];
      const marks = keys.map((_, i) => `$${i + 1}`).join(", ");
      const rows = await db.query(
        `SELECT budget_key, spent_micros, reserved_micros FROM spend_budgets WHERE budget_key IN (${marks})`,
        [...keys],
      );
      const found = new Map(rows.map((r) => [String(r.budget_key), state(r)]));
      return keys.map((key) => found.get(key) ?? { key, spentMicros: 0, reservedMicros: 0 });
    },
  };
}

/** One budget row, for the UI and `recondo policies list`. */
export interface BudgetRow extends WindowState {
  scope: string;
  period: string;
  start: number;
  end: number;
}

/** Budgets whose period contains `at`, for dashboards. */
export async function currentBudgets(db: Db, at: number): Promise<BudgetRow[]> {
  const rows = await db.query(
    `SELECT budget_key, scope, period, period_start, period_end, spent_micros, reserved_micros
     FROM spend_budgets WHERE period_start <= $1 AND period_end > $1 ORDER BY budget_key`,
    [at],
  );
  return rows.map((r) => ({
    ...state(r),
    scope: String(r.scope),
    period: String(r.period),
    start: Number(r.period_start),
    end: Number(r.period_end),
  }));
}
