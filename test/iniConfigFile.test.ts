// configFiles' `ini` format (written for CamCOPS's camcops.conf, seed 001): what the schema accepts,
// and the text it renders. That Python's configparser reads that text back exactly as it was given:
// test/host/iniConfigFile.test.ts.
import { parseStudyConfig } from "../stacks/config";
import { iniFile } from "../src/host/apps/configFiles";
import { studyConfig } from "./helpers";

const withIni = (content: unknown) => {
  const base = studyConfig("digitalocean", "small");
  return { ...base, app: { ...(base.app as object), configFiles: [{ name: "app.conf", format: "ini", content }] } };
};
const error = (content: unknown) => {
  try {
    parseStudyConfig(withIni(content));
    return "";
  } catch (err) {
    return (err as Error).message;
  }
};

test("sections, scalars and lists are written in configparser's format", () => {
  const text = iniFile(
    { site: { URL: "mysql+pymysql://u:p@127.0.0.1:3306/db?charset=utf8mb4", ON: true, N: 30, EMPTY: "" }, server: { LIST: ["A", "B c"] } },
    "test",
  );
  expect(text).toBe("[site]\nURL = mysql+pymysql://u:p@127.0.0.1:3306/db?charset=utf8mb4\nON = true\nN = 30\nEMPTY = \n\n[server]\nLIST =\n    A\n    B c\n");
});

test("a substituted value that configparser would not read back is refused at render", () => {
  expect(() => iniFile({ s: { K: "50%" } }, "studyhost:app.configFiles (app.conf)")).toThrow(
    "studyhost:app.configFiles (app.conf): a value holds a newline or %, which configparser would not read back as written",
  );
});

test("the schema: a table of sections of one-line values; each problem one line naming the key", () => {
  expect(error({ site: { DB_URL: "${DATABASE_URL}", PORT: "${PORT}", ON: false, L: ["a", "b"] } })).toBe("");
  // Values are secrets' neighbours: the message gives their length, never the value.
  expect(error("not a table")).toBe(
    "studyhost:app.configFiles.0.content: got a value of 11 characters (not shown); expected a table of values for an ini file",
  );
  expect(error({ site: "x" })).toMatch(/^studyhost:app\.configFiles\.0\.content\.site: got .*; expected a table of KEY: value in each section$/);
  expect(error({ "bad section]": {} })).toMatch(
    /^studyhost:app\.configFiles\.0\.content\.bad section\]: got .*; expected a section name of letters, digits, _ \. : -$/,
  );
  expect(error({ site: { "A=B": "x" } })).toMatch(/^studyhost:app\.configFiles\.0\.content\.site\.A=B: got .*; expected a key of letters, digits, _ \. -$/);
  for (const v of ["two\nlines", "100%", " padded", { nested: 1 }, [1, 2]]) {
    expect(error({ site: { K: v } })).toMatch(
      /^studyhost:app\.configFiles\.0\.content\.site\.K: got .*; expected a string \(one line, no %, no spaces at either end\), a number, a boolean or a list of such strings$/,
    );
  }
  expect(error({ site: { K: "${NOPE}" } })).toMatch(/^studyhost:app\.configFiles\.0\.content: got .*; \$\{NOPE\} is not in the app's env/);
});
