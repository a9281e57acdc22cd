/**
 * `recondo delete`: deletion by policy — retention (`--older-than 90d`, e.g. from cron) or a data-subject
 * request (`--developer`, `--session`, `--turn`). Every deletion is recorded with its reason, and `verify`
 * reports it as deleted by policy, not as tampering. `--dry-run` lists what would go.
 * @module
 */
import type { CommandModule } from "./yargs.ts";
import { openStores } from "./inspect/open_stores.ts";
import { parseTime } from "./inspect/time_range.ts";
import { applyRetention } from "./retention/apply.ts";

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
    await using stores = await openStores(Deno.env, { objects: true });
    const result = await applyRetention(stores.db, stores.objects!, {
      olderThan,
      developer: args.developer,
      sessionId: args.session,
      turnId: args.turn,
    }, { reason: args.reason, dryRun: args["dry-run"], keepObjects: args["keep-objects"] });
    if (args.json) {
      console.log(JSON.stringify(result, null, 2));
      return;
    }
    const turns = `${result.turn_ids.length} turns in ${result.sessions} sessions`;
    if (result.dry_run) {
      console.log(`Would delete ${turns}:`);
      for (const id of result.turn_ids) console.log(`  ${id}`);
      return;
    }
    console.log(
      `Deleted ${turns}; removed ${result.objects_deleted} objects, kept ${result.objects_shared} still in use` +
        (result.objects_kept.length ? `, ${result.objects_kept.length} refused by the store:` : "."),
    );
    for (const k of result.objects_kept) console.log(`  ${k.sha256}: ${k.error}`);
  },
};
