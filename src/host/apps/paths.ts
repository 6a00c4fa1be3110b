// Where each app lives on its host (seed 001's FHS layout): config in /etc/<app>, code in /srv/<app>,
// state on the data volume, logs in /var/log/<app>. Its own module, below everything that installs,
// runs or backs up an app, so that none of them imports another for a path.
import { PATHS } from "../document/part";

export interface AppPaths {
  readonly etc: string;
  readonly envFile: string;
  readonly code: string;
  readonly venv: string;
  /** Where the app keeps its state (SQLite file, uploads): on the data volume. */
  readonly state: string;
  readonly logs: string;
  readonly unit: string;
  readonly deploy: string;
}

export function appPaths(name: string): AppPaths {
  return {
    etc: `/etc/${name}`,
    envFile: `/etc/${name}/env`,
    code: `/srv/${name}`,
    venv: `/srv/${name}/venv`,
    state: `${PATHS.data}/${name}`,
    logs: `/var/log/${name}`,
    unit: `${name}.service`,
    deploy: `${PATHS.sbin}/studyhost-deploy-${name}`,
  };
}
