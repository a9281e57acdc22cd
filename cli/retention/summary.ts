/**
 * How the deletion commands print a retention result: one progress line per batch on stderr while it
 * runs, then a summary on stdout (or the result as JSON).
 * @module
 */
import type { RetentionResult } from "../../storage/retention_run.ts";

/** The per-batch progress line (stderr, so `--json` output stays clean). */
export function printProgress(p: RetentionResult): void {
  console.error(
    `retention: ${p.turns} turns deleted, ${p.objects_deleted} bodies removed, ` +
      `${p.objects_locked} kept under Object Lock, ${p.objects_held} under legal hold…`,
  );
}

/** The final summary (or the JSON result). */
export function printResult(result: RetentionResult, json: boolean): void {
  if (json) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  const turns = `${result.turns} turns in ${result.sessions} sessions`;
  if (result.dry_run) {
    console.log(`Would delete ${turns} (${result.reason}).`);
    for (const id of result.turn_ids) console.log(`  ${id}`);
    if (result.turn_ids.length < result.turns) {
      console.log(`  … and ${result.turns - result.turn_ids.length} more`);
    }
    return;
  }
  console.log(
    `Deleted ${turns} (${result.reason}); removed ${result.objects_deleted} bodies, ` +
      `kept ${result.objects_shared} still in use.`,
  );
  if (result.pending_removed) {
    console.log(`  ${result.pending_removed} of them were kept by an Object Lock that has since expired.`);
  }
  if (result.objects_locked) {
    console.log(
      `  kept: ${result.objects_locked} under Object Lock until ${result.locked_until} at the latest; ` +
        "a later run removes them",
    );
  }
  if (result.objects_held) {
    console.log(`  kept: ${result.objects_held} under legal hold; a later run removes them once it is off`);
  }
  if (result.objects_failed) {
    console.log(`  ${result.objects_failed} bodies the store failed to delete:`);
    for (const f of result.failures) console.log(`    ${f.sha256}: ${f.error}`);
  }
}
