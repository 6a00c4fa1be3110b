// BOFS, the Bride of Frankensystem online-experiment server: ../shared/seeds/000_bf5bb7d6266ac38a.txt.
// The section of the guide each choice follows is named beside it.
import { z } from "zod";
import { Preset, PresetProblem } from "./preset";

const Options = z
  .object({
    experiment: z
      .object({ git: z.string().min(1).describe("the experiment's git URL"), ref: z.string().min(1).describe("a tag, branch or commit") })
      .strict()
      .describe("the experiment's own files (questionnaires, templates): { git: URL, ref: tag }"),
    version: z
      .string()
      .regex(/^[0-9][0-9A-Za-z.+-]*$/, "expected a version such as 2.1.0")
      .optional()
      .describe("the bride-of-frankensystem version from PyPI (default: the newest; pin it for a study)"),
    title: z.string().min(1).default("Research Study").describe("TITLE in production.toml"),
    settings: z.record(z.string(), z.unknown()).default({}).describe("more production.toml keys, such as PAGE_LIST or ALLOW_RETAKES"),
  })
  .strict();

/** Keys studyhost writes into production.toml itself: a setting may not replace them. */
const OWN_KEYS = ["SECRET_KEY", "PORT", "SQLALCHEMY_DATABASE_URI", "ADMIN_PASSWORD", "USE_ADMIN", "TITLE"];
const PORT = 5000;

export const bofs: Preset<z.output<typeof Options>> = {
  name: "bofs",
  guide: "000_bf5bb7d6266ac38a.txt",
  options: Options,
  expand(o, context) {
    const clash = Object.keys(o.settings).find((k) => OWN_KEYS.includes(k));
    if (clash) throw new PresetProblem(`app.settings.${clash}`, `${clash} is written by studyhost (generated or derived); leave it out of settings`);
    // "System Requirements" / "SQLite vs Production Databases": SQLite serves a small study (fewer than
    // 25 concurrent users); anything larger needs PostgreSQL. The user's own engine wins.
    const engine = context.engine ?? (context.tier === "small" ? "sqlite" : "postgres");
    if (engine === "none")
      throw new PresetProblem("database.engine", "BOFS keeps its data in SQLAlchemy's database (seed 000): use sqlite (small tier) or postgres");
    return {
      defaults: { database: { engine } },
      app: {
        kind: "python",
        name: "bofs",
        // "Install Your Experiment": the experiment's files, here from git at a ref.
        source: { git: o.experiment.git, ref: o.experiment.ref },
        // "Create Production Environment": BOFS from PyPI in a venv; "PostgreSQL Setup": psycopg2-binary.
        packages: [o.version ? `bride-of-frankensystem==${o.version}` : "bride-of-frankensystem", ...(engine === "postgres" ? ["psycopg2-binary"] : [])],
        // "Process Management with systemd": ExecStart=.../python -m BOFS production.toml, Restart=always.
        start: "python -m BOFS production.toml",
        // "Starting the Production Server": BOFS listens on the PORT of its config (5000 in the guide).
        // It binds 0.0.0.0; the host firewall admits only 22, 80 and 443, so only nginx reaches it.
        port: PORT,
        // "Reverse Proxy with Nginx": /static from the experiment's folder; "IP Restriction": /admin.
        static: { urlPath: "/static", dir: "static" },
        adminPaths: ["/admin"],
        // "Test Production Installation": --check-config before the (first and every) start.
        migrate: ["python -m BOFS production.toml --check-config"],
        configFiles: [
          {
            name: "production.toml",
            format: "toml",
            link: "production.toml",
            // "Complete Production Configuration Example", with generated secrets ("Strong Admin
            // Password") and the database of the tier ("SQLite vs Production Databases").
            content: {
              TITLE: o.title,
              SECRET_KEY: "${SECRET_KEY}",
              PORT,
              SQLALCHEMY_DATABASE_URI: "${DATABASE_URL}",
              ADMIN_PASSWORD: "${ADMIN_PASSWORD}",
              USE_ADMIN: true,
              ...o.settings,
            },
          },
        ],
      },
    };
  },
};
