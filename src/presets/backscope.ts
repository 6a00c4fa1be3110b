// backscope, Numberscope's back end: ../shared/seeds/004_d24a99bddaaa7dcf.txt ("Server
// administration"). The section of the guide each choice follows is named beside it.
import { z } from "zod";
import { Preset, PresetProblem } from "./preset";

const Options = z
  .object({
    git: z.string().min(1).default("https://github.com/numberscope/backscope.git").describe("backscope's git URL (default the project's own repository)"),
    ref: z.string().min(1).describe("the tag, branch or commit to deploy"),
    frontend: z
      .object({ git: z.string().min(1), ref: z.string().min(1), dir: z.string().min(1).default(".") })
      .strict()
      .optional()
      .describe("frontscope's built files: { git, ref, dir } (nginx serves them at / and proxies /api)"),
  })
  .strict();

export const backscope: Preset<z.output<typeof Options>> = {
  name: "backscope",
  guide: "004_d24a99bddaaa7dcf.txt",
  options: Options,
  expand(o, context) {
    // "Resetting the production database": backscope runs on PostgreSQL (createdb -E UTF8 -T template0,
    // which studyhost's database set-up does).
    if ((context.engine ?? "postgres") !== "postgres")
      throw new PresetProblem("database.engine", "backscope needs PostgreSQL (seed 004); use engine: postgres");
    return {
      app: {
        kind: "python",
        // "How backscope is set up": its own service user, `scope`, who owns the checkout and the database.
        name: "scope",
        source: { git: o.git, ref: o.ref },
        // server/production.sh, which the guide's unit runs: gunicorn serving wsgi:app (here on a local
        // port rather than a socket; studyhost sizes the workers through WEB_CONCURRENCY). The deploy
        // step installs requirements.txt and exports GIT_REVISION_HASH, as production.sh does.
        packages: ["gunicorn"],
        start: "gunicorn --bind 127.0.0.1:${PORT} wsgi:app",
        port: 8000,
        // "Updating the server": /api/get_commit answers when the new version is up.
        healthPath: "/api/get_commit",
        adminPaths: [],
        // "Resetting the production database", step 9: the schema through Flask-Migrate.
        migrate: ["flask db upgrade"],
        configFiles: [
          {
            // "How backscope is set up": a .env in the checkout's root, APP_ENVIRONMENT=production;
            // the variable names of backscope's doc/install-postgres.md.
            name: ".env",
            format: "dotenv",
            link: ".env",
            content: {
              APP_ENVIRONMENT: "production",
              SECRET_KEY: "${SECRET_KEY}",
              POSTGRES_USER: "${PGUSER}",
              POSTGRES_PASSWORD: "${PGPASSWORD}",
              POSTGRES_DB: "${PGDATABASE}",
              DATABASE_URI: "${DATABASE_URL}",
            },
          },
        ],
        // "How Nginx is set up": frontscope's built files at /, /api forwarded to backscope.
        ...(o.frontend ? { frontend: { ...o.frontend, apiPaths: ["/api"] } } : {}),
      },
    };
  },
};
