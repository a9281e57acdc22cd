/**
 * The spend ledger `spend-cap` needs from below. Policies never import storage: this interface lives
 * here, `storage/ledger/` implements it in SQL for SQLite and PostgreSQL, and the gateway injects it as
 * `PolicyServices.spendLedger`. Amounts are integer micro-USD so that sums are exact.
 *
 * The contract that makes caps hold across replicas: `reserve` must be atomic across every budget it
 * names (all or none) and must check `spent + reserved + amount <= cap` in the same statement that adds
 * the reservation, in the shared database, never against an in-memory copy.
 * @module
 */

/** One budget in one calendar period. */
export interface BudgetWindow {
  /** Stable key, e.g. `team:alpha|day|2026-11-28`. */
  key: string;
  /** The concrete scope, e.g. `team:alpha`. */
  scope: string;
  period: "day" | "week" | "month";
  start: number;
  end: number;
  capMicros: number;
}

/** A budget's totals as the ledger holds them. */
export interface WindowState {
  key: string;
  spentMicros: number;
  reservedMicros: number;
}

export type ReserveResult =
  | { ok: true; states: WindowState[] }
  /** `key` names the first budget that could not take the amount; nothing was reserved anywhere. */
  | { ok: false; key: string; state: WindowState };

/** What one budget looked like before and after a settlement (for threshold events). */
export interface Settlement {
  key: string;
  spentBeforeMicros: number;
  spentAfterMicros: number;
}

export interface SpendLedger {
  /**
   * Reserves `amountMicros` on every window under `reservationId`, or on none if any would exceed its
   * cap. Creates windows on first use.
   */
  reserve(
    reservationId: string,
    windows: readonly BudgetWindow[],
    amountMicros: number,
    options: { at: number; expiresAt: number },
  ): Promise<ReserveResult>;
  /**
   * Replaces the reservation by the actual cost: spent += actual on each window, reserved -= what was
   * reserved there. Windows without a reservation (a WebSocket turn) are charged directly, created if new.
   */
  settle(
    reservationId: string,
    windows: readonly BudgetWindow[],
    actualMicros: number,
    at: number,
  ): Promise<Settlement[]>;
  /** Drops a reservation without charging (the request failed or was blocked later in the chain). */
  release(reservationId: string, at: number): Promise<void>;
  /** Releases reservations whose gateway never settled them (it crashed); returns how many. */
  releaseExpired(at: number): Promise<number>;
  /** Current totals of the given windows (absent windows read as zero). */
  read(keys: readonly string[]): Promise<WindowState[]>;
}
