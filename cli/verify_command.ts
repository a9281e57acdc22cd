/**
 * `recondo verify [<session-id>] [--all]`: proves that what was captured is what is stored. Re-hashes
 * objects, recomputes hash chains, checks chain-head signatures, and names each problem (see
 * `verify/report.ts` for the kinds). Exit code 0 only when everything holds; recorded deletions by
 * policy are listed but do not fail the run.
 * @module
 */
import type { CommandModule } from "./yargs.ts";
import { type Env, openStores } from "./inspect/open_stores.ts";
import { bold, type Column, renderTable, useColor } from "./inspect/table.ts";
import { progressBar } from "./verify/progress.ts";
import { isFailure, type Problem, type VerifyReport } from "./verify/report.ts";
import { readLocalPublicKey, trustedKeys } from "./verify/trusted_keys.ts";
import { verifyStores } from "./verify/verify.ts";

interface VerifyArgs {
  session?: string;
  all: boolean;
  json: boolean;
  "strict-keys": boolean;
  progress?: boolean;
}

/** Runs verify against the stores named by `env`; the command's logic, callable from tests. */
export async function runVerify(
  env: Env,
  options: { sessionId?: string; all: boolean; strictKeys?: boolean; progress?: boolean },
): Promise<VerifyReport> {
  if (options.all && options.sessionId !== undefined) {
    throw new RangeError(
      `verify takes a session id or --all, not both (got "${options.sessionId}" and --all)`,
    );
  }
  if (!options.all && options.sessionId === undefined) {
    throw new RangeError("verify needs a session id or --all");
  }
  await using stores = await openStores(env, { objects: true });
  const local = await readLocalPublicKey(stores.paths.signingKey);
  const keys = await trustedKeys(stores.db, local, { strict: options.strictKeys });
  if (options.strictKeys && !local) {
    throw new Error(`--strict-keys needs the gateway's key file at ${stores.paths.signingKey}`);
  }
  const bar = progressBar(options.progress);
  try {
    return await verifyStores(stores.db, stores.objects!, {
      sessionId: options.sessionId,
      all: options.all,
      keys,
      onProgress: (phase, done, total) => bar.update(phase, done, total),
    });
  } finally {
    bar.done();
  }
}

function printReport(report: VerifyReport, color: boolean): void {
  console.log(
    `Checked ${report.checked_sessions} sessions, ${report.checked_turns} turns, ${report.checked_objects} objects, ${report.checked_signatures} signed heads` +
      (report.unsigned_turns ? ` (${report.unsigned_turns} newest turns not yet signed)` : ""),
  );
  if (report.problems.length) {
    const columns: Column<Problem>[] = [
      { header: "PROBLEM", value: (p) => p.kind },
      { header: "SESSION", value: (p) => p.session_id, max: 40 },
      { header: "TURN", value: (p) => p.turn_id },
      { header: "DETAIL", value: (p) => p.detail },
    ];
    console.log(renderTable(columns, report.problems, { color }));
  }
  const failures = report.problems.filter(isFailure).length;
  const deleted = report.problems.length - failures;
  const note = deleted ? ` (${deleted} deleted by policy)` : "";
  console.log(bold(failures ? `FAILED: ${failures} problems${note}` : `OK: everything holds${note}`, color));
}

export const verifyCommand: CommandModule<object, VerifyArgs> = {
  command: "verify [session]",
  describe: "Re-hash objects, recompute hash chains and check signatures; exit 0 only if all holds",
  builder: (y) =>
    y
      .positional("session", { type: "string", describe: "Session id to verify" })
      .option("all", { type: "boolean", default: false, describe: "Verify every session and object" })
      .option("json", { type: "boolean", default: false, describe: "Print one JSON object" })
      .option("strict-keys", {
        type: "boolean",
        default: false,
        describe: "Trust only this data dir's signing key, not other keys registered in the database",
      })
      .option("progress", {
        type: "boolean",
        describe: "Show a progress bar on stderr (default: when stderr is a terminal)",
      }),
  async handler(args) {
    const report = await runVerify(Deno.env, {
      sessionId: args.session,
      all: args.all,
      strictKeys: args["strict-keys"],
      progress: args.progress,
    });
    if (args.json) console.log(JSON.stringify(report, null, 2));
    else printReport(report, useColor());
    if (!report.ok) Deno.exit(1);
  },
};
