/**
 * `recondo report --by team|developer|repo|model [--period month|YYYY-MM] [--format table|csv|json]`:
 * chargeback for one UTC calendar month (default: the current one). Tokens by kind and cost per group,
 * unpriced usage apart, and a totals line that matches `recondo stats` over the same month.
 * @module
 */
import type { CommandModule } from "./yargs.ts";
import { openStores } from "./inspect/open_stores.ts";
import { type Column, count, renderTable, usd, useColor } from "./inspect/table.ts";
import {
  chargebackCsv,
  type ChargebackLine,
  chargebackReport,
  parseReportPeriod,
  REPORT_GROUPS,
  type ReportGroup,
} from "../storage/reports/chargeback.ts";

const FORMATS = ["table", "csv", "json"] as const;

interface ReportArgs {
  by: string;
  period: string;
  format: string;
  json: boolean;
}

function human(report: Awaited<ReturnType<typeof chargebackReport>>): string {
  const columns = (label: string): Column<ChargebackLine>[] => [
    { header: label, value: (l) => l.group ?? "(none)" },
    { header: "TURNS", value: (l) => l.turns, align: "right" },
    { header: "IN", value: (l) => count(l.input_tokens), align: "right" },
    { header: "OUT", value: (l) => count(l.output_tokens), align: "right" },
    { header: "CACHE R", value: (l) => count(l.cache_read_tokens), align: "right" },
    { header: "CACHE W", value: (l) => count(l.cache_write_tokens), align: "right" },
    { header: "REASONING", value: (l) => count(l.reasoning_tokens), align: "right" },
    { header: "COST", value: (l) => usd(l.cost_usd) ?? "unpriced", align: "right" },
  ];
  const color = useColor();
  const by = report.by.toUpperCase();
  const parts = [`Chargeback by ${report.by}, ${report.period} (UTC)`];
  parts.push(report.rows.length ? renderTable(columns(by), report.rows, { color }) : "No priced usage.");
  if (report.unpriced.length) {
    parts.push("Unpriced usage (no price known for the model):");
    parts.push(renderTable(columns(by), report.unpriced, { color }));
  }
  parts.push(renderTable(columns(""), [{ ...report.totals, group: "TOTAL" }], { color }));
  return parts.join("\n\n");
}

export const reportCommand: CommandModule<object, ReportArgs> = {
  command: "report",
  describe: "Chargeback: tokens and cost per team, developer, repo or model for one month (UTC)",
  builder: (y) =>
    y
      .option("by", { type: "string", demandOption: true, describe: `Group by: ${REPORT_GROUPS.join(", ")}` })
      .option("period", {
        type: "string",
        default: "month",
        describe: "month (the current UTC month) or a month such as 2026-11",
      })
      .option("format", { type: "string", default: "table", describe: `Output: ${FORMATS.join(", ")}` })
      .option("json", { type: "boolean", default: false, describe: "Print JSON (same as --format json)" }),
  async handler(args) {
    if (!(REPORT_GROUPS as readonly string[]).includes(args.by)) {
      throw new RangeError(`--by must be one of ${REPORT_GROUPS.join(", ")}, got "${args.by}"`);
    }
    const format = args.json ? "json" : args.format;
    if (!(FORMATS as readonly string[]).includes(format)) {
      throw new RangeError(`--format must be one of ${FORMATS.join(", ")}, got "${format}"`);
    }
    const period = parseReportPeriod(args.period);
    await using stores = await openStores(Deno.env);
    const report = await chargebackReport(stores.db, { by: args.by as ReportGroup, period });
    if (format === "csv") await Deno.stdout.write(new TextEncoder().encode(chargebackCsv(report)));
    else console.log(format === "json" ? JSON.stringify(report, null, 2) : human(report));
  },
};
