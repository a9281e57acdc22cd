import type { Handlers } from "../_lib/context.ts";
import {
  chargebackCsv,
  chargebackReport,
  parseReportPeriod,
  REPORT_GROUPS,
  type ReportGroup,
} from "../../storage/reports/chargeback.ts";

/**
 * `/budgets/report.csv?by=team&period=2026-11`: the chargeback CSV `recondo report --format csv` prints,
 * as a download (behind the login like every page). `period` defaults to the current UTC month.
 */
export const handler: Handlers = {
  async GET(_req, ctx) {
    const by = ctx.url.searchParams.get("by") ?? "team";
    const periodParam = ctx.url.searchParams.get("period") || "month";
    if (!(REPORT_GROUPS as readonly string[]).includes(by)) {
      return badRequest(`by must be one of ${REPORT_GROUPS.join(", ")}, got "${by}"`);
    }
    let period;
    try {
      period = parseReportPeriod(periodParam);
    } catch (error) {
      return badRequest((error as Error).message.replace("--period", "period"));
    }
    const report = await chargebackReport(ctx.services.db, { by: by as ReportGroup, period });
    return new Response(chargebackCsv(report), {
      headers: {
        "content-type": "text/csv; charset=utf-8; header=present",
        "content-disposition": `attachment; filename="recondo-chargeback-${by}-${period.label}.csv"`,
      },
    });
  },
};

function badRequest(message: string): Response {
  return new Response(`${message}\n`, {
    status: 400,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}
