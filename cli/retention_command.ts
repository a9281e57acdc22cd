/**
 * Deletion by policy from the command line. Every deletion is recorded with its reason, and `verify`
 * reports it as deleted by policy, not as tampering; bodies under S3 Object Lock are kept and removed by a
 * later run once the lock expires.
 * - `recondo retention run [--days N] [--dry-run] [--json]`: what `serve` does every
 *   `capture.retention.intervalMinutes`, once (e.g. from cron, or with `days: null` in the config).
 * - `recondo delete`: a data-subject request (`--developer`, `--session`, `--turn`) or an ad-hoc age
 *   (`--older-than 90d`), with a `--reason`. `--dry-run` lists what would go.
 * @module
 */
import type { Argv, CommandModule } from "./yargs.ts";
import { parseTime } from "./inspect/time_range.ts";
import { openRetentionStores } from "./retention/stores.ts";
import { printProgress, printResult } from "./retention/summary.ts";
import { runRetention } from "../storage/retention_run.ts";
import { retentionReason } from "../storage/retention_job.ts";

const DAY_MS = 86_400_000;
/** How many turn ids a dry run or `delete` lists. */
const LIST_LIMIT = 1000;

interface DeleteArgs {
  "older-than"?: string;
  developer?: string;
  session?: string;
  turn?: string;
  reason: string;
  "dry-run": boolean;
  "keep-objects": boolean;
  json: boolean;
}

export const deleteCommand: CommandModule<object, DeleteArgs> = {
  command: "delete",
  describe: "Delete captured turns by policy (retention or a data-subject request), recording why",
  builder: (y) =>
    y
      .option("older-than", {
        type: "string",
        describe: "Turns that started more than this age ago (90d, 12h)",
      })
      .option("developer", { type: "string", describe: "Only this developer's turns" })
      .option("session", { type: "string", describe: "Only this session's turns" })
      .option("turn", { type: "string", describe: "Only this turn" })
      .option("reason", { type: "string", demandOption: true, describe: "Why; kept in the deletion record" })
      .option("dry-run", { type: "boolean", default: false, describe: "List what would be deleted" })
      .option("keep-objects", {
        type: "boolean",
        default: false,
        describe: "Leave bodies in the object store",
      })
      .option("json", { type: "boolean", default: false, describe: "Print JSON" }),
  async handler(args) {
    const olderThanArg = args["older-than"];
    if (olderThanArg !== undefined && !/^\d+[mhd]$/.test(olderThanArg)) {
      throw new RangeError(`--older-than must be an age like 90d, 12h or 30m; got "${olderThanArg}"`);
    }
    const olderThan = olderThanArg === undefined ? undefined : parseTime("older-than", olderThanArg);
    await using stores = await openRetentionStores(Deno.env);
    const result = await runRetention(stores.db, stores.objects, {
      olderThan,
      developer: args.developer,
      sessionId: args.session,
      turnId: args.turn,
    }, {
      reason: args.reason,
      dryRun: args["dry-run"],
      keepObjects: args["keep-objects"],
      listTurnIds: LIST_LIMIT,
      onProgress: printProgress,
    });
    printResult(result, args.json);
  },
};

interface RetentionRunArgs {
  days?: number;
  "dry-run": boolean;
  json: boolean;
}

const retentionRunCommand: CommandModule<object, RetentionRunArgs> = {
  command: "run",
  describe: "Delete turns older than the retention period now (what serve does every interval)",
  builder: (y) =>
    y
      .option("days", {
        type: "number",
        describe: "Keep this many days (default: capture.retention.days from the config)",
      })
      .option("dry-run", { type: "boolean", default: false, describe: "Count what would be deleted" })
      .option("json", { type: "boolean", default: false, describe: "Print JSON" }),
  async handler(args) {
    if (args.days !== undefined && (!Number.isInteger(args.days) || args.days <= 0)) {
      throw new RangeError(`--days must be a positive whole number of days; got ${args.days}`);
    }
    await using stores = await openRetentionStores(Deno.env);
    const days = args.days ?? stores.config.capture.retention.days;
    const now = Date.now();
    // With no period anywhere, only bodies an expired Object Lock kept from earlier deletions go.
    const result = await runRetention(
      stores.db,
      stores.objects,
      days === null ? null : { olderThan: now - days * DAY_MS },
      {
        reason: days === null ? "retention: Object Lock expired" : retentionReason(days),
        dryRun: args["dry-run"],
        listTurnIds: args["dry-run"] ? LIST_LIMIT : 0,
        onProgress: printProgress,
      },
    );
    if (days === null && !args.json) {
      console.error(
        "retention: capture.retention.days is null (keep forever); pass --days N to delete turns",
      );
    }
    printResult(result, args.json);
  },
};

export const retentionCommand: CommandModule<object, object> = {
  command: "retention <command>",
  describe: "Retention of captured traffic (capture.retention in the config)",
  builder: (y: Argv) => y.command(retentionRunCommand).demandCommand(1),
  handler: () => {},
};
