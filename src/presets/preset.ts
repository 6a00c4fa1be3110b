// A preset turns `studyhost:app: { preset: <system>, ...its options }` into the full configuration
// its deployment guide asks for (../shared/seeds: each preset cites its guide and the guide's section
// beside every choice). It runs on the raw configuration, before the schema: what it produces is
// checked by the same schema and cross-key rules as a configuration written by hand, and the user's
// own app keys (env, port, adminPaths, ...) override the preset's.
import type { z } from "zod";

/** What a preset knows about the study when it expands: enough to pick a driver or refuse a tier. */
export interface PresetContext {
  readonly tier: string;
  /** studyhost:database.engine as the user wrote it; undefined where they left it to the preset. */
  readonly engine: "postgres" | "sqlite" | "none" | undefined;
}

export interface PresetExpansion {
  /** The app, as `studyhost:app` would be written by hand. */
  readonly app: Record<string, unknown>;
  /** Lists added in front of the user's own (jobs, fetch, sites). */
  readonly lists?: Readonly<Record<string, readonly unknown[]>>;
  /** Keys the user did not set themselves (staging, accessories, ...). */
  readonly defaults?: Readonly<Record<string, unknown>>;
}

/** A problem with the preset's options or with the study around it: a key (without `studyhost:`) and why. */
export class PresetProblem extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Preset<Options> {
  readonly name: string;
  /** The guide in ../shared/seeds that is this preset's specification. */
  readonly guide: string;
  /** The preset's own keys, beside `preset` under studyhost:app. */
  readonly options: z.ZodType<Options>;
  expand(options: Options, context: PresetContext): PresetExpansion;
}
