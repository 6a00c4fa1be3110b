// Entry point named by Pulumi.yaml (`main: stacks/index.ts`): `pulumi up` runs this.
import { studyProgram } from "./program";

export = studyProgram();
