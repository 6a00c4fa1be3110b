// The `analytics` key (seed 003: ViewBovis counts, every day, which parts of the app were requested,
// from nginx's access log): a daily job on the app host that reads the previous day's lines of each
// site's access log and writes request counts per path and per status code into a dated JSON file on
// the data volume, keeping `keepDays` days of them. The host side is src/host/analytics/analytics.ts.
import { z } from "zod";
import { schedule } from "./scheduled";
import { wholeNumber } from "./validators";

/** Where the daily counts go, under the data volume: one folder per site (app name). */
export const ANALYTICS_DIR = "/var/lib/studyhost/analytics";

/** The default run time: after Debian's logrotate.timer (daily, up to an hour late), before backups. */
export const ANALYTICS_DEFAULT_SCHEDULE = "30 1 * * *";

export const AnalyticsSchema = z
  .object({
    schedule: schedule
      .default(ANALYTICS_DEFAULT_SCHEDULE)
      .describe(
        `when the previous day is counted, as cron or OnCalendar in UTC (default "${ANALYTICS_DEFAULT_SCHEDULE}": daily at 01:30, after the nightly log rotation; a run missed while the host was off happens at boot)`,
      ),
    keepDays: wholeNumber(1, 3660, " of days", 90).default(90).describe("delete daily count files older than this many days (default 90)"),
  })
  .strict();

export type AnalyticsConfig = z.output<typeof AnalyticsSchema>;

/** The counts' folder is /var/lib/studyhost/analytics: no app may have its state folder there. */
export function checkAnalytics(c: { readonly analytics?: AnalyticsConfig; readonly appNames: readonly string[] }, ctx: z.RefinementCtx): void {
  if (c.analytics && c.appNames.includes("analytics")) {
    ctx.addIssue({
      code: "custom",
      path: ["analytics"],
      message: `an app is named analytics, and its state folder would be ${ANALYTICS_DIR}, where the daily counts go; rename that app to use studyhost:analytics`,
    });
  }
}
