// configFiles' `ini` format (written for CamCOPS's camcops.conf, seed 001): Python's configparser
// reads the rendered file back exactly as it was given (the rendered text and the schema:
// test/iniConfigFile.test.ts). Needs Debian's python3.
import { spawnSync } from "node:child_process";
import { iniFile } from "../../src/host/apps/configFiles";

test("configparser reads back sections, scalars and lists as written", () => {
  const text = iniFile(
    { site: { URL: "mysql+pymysql://u:p@127.0.0.1:3306/db?charset=utf8mb4", ON: true, N: 30, EMPTY: "" }, server: { LIST: ["A", "B c"] } },
    "test",
  );
  expect(text).toBe("[site]\nURL = mysql+pymysql://u:p@127.0.0.1:3306/db?charset=utf8mb4\nON = true\nN = 30\nEMPTY = \n\n[server]\nLIST =\n    A\n    B c\n");
  const py =
    "import configparser, json, sys; c = configparser.ConfigParser(); c.optionxform = str; c.read_string(sys.stdin.read()); print(json.dumps({s: dict(c[s]) for s in c.sections()}))";
  const r = spawnSync("/usr/bin/python3", ["-c", py], { input: text, encoding: "utf8" });
  expect(r.status).toBe(0);
  expect(JSON.parse(r.stdout)).toEqual({
    site: { URL: "mysql+pymysql://u:p@127.0.0.1:3306/db?charset=utf8mb4", ON: "true", N: "30", EMPTY: "" },
    server: { LIST: "\nA\nB c" },
  });
});
