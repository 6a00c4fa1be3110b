// Issue 2 asks for TSDoc on every component argument: its default, an example, its monthly cost where
// it bills, and what changing it does to the cloud ("changing this replaces ..." or "in place"). A
// reviewer reads the last one before approving a change to a study holding participants' data, so
// this keeps it true for arguments added later: every argument interface of components/*.ts (the
// `...Args` interfaces and the interfaces their members are made of, such as FirewallRule).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as ts from "typescript";

const DIR = join(__dirname, "..", "components");

interface Documented {
  readonly where: string;
  readonly doc: string;
}

/** The /** ... *\/ comment right before a node, without its stars. */
function docOf(node: ts.Node, text: string): string {
  const ranges = ts.getLeadingCommentRanges(text, node.getFullStart()) ?? [];
  const last = ranges.filter((r) => text.startsWith("/**", r.pos)).pop();
  if (!last) return "";
  return text
    .slice(last.pos + 3, last.end - 2)
    .split("\n")
    .map((line) => line.replace(/^\s*\* ?/, ""))
    .join("\n")
    .trim();
}

/** Every member of the argument interfaces of one components file, with its doc comment. */
function argumentMembers(file: string): Documented[] {
  const text = readFileSync(join(DIR, file), "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const interfaces = new Map(source.statements.filter(ts.isInterfaceDeclaration).map((i) => [i.name.text, i]));
  // The ...Args interfaces, then every interface of this file named in their members' types.
  const wanted = [...interfaces.keys()].filter((n) => n.endsWith("Args"));
  for (const name of wanted) {
    for (const member of interfaces.get(name)!.members) {
      const type = ts.isPropertySignature(member) ? (member.type?.getText(source) ?? "") : "";
      for (const other of interfaces.keys()) if (!wanted.includes(other) && new RegExp(`\\b${other}\\b`).test(type)) wanted.push(other);
    }
  }
  return wanted.flatMap((name) =>
    interfaces
      .get(name)!
      .members.filter(ts.isPropertySignature)
      .map((m) => ({ where: `${file} ${name}.${m.name.getText(source)}`, doc: docOf(m, text) })),
  );
}

/** The component classes' own doc comments (where the monthly cost of what they create is stated). */
function componentClasses(file: string): Documented[] {
  const text = readFileSync(join(DIR, file), "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  return source.statements
    .filter(ts.isClassDeclaration)
    .filter((c) => c.heritageClauses?.some((h) => /ComponentResource/.test(h.getText(source))))
    .map((c) => ({ where: `${file} class ${c.name?.text}`, doc: docOf(c, text) }));
}

const files = readdirSync(DIR).filter((f) => f.endsWith(".ts"));
const members = files.flatMap(argumentMembers);
const classes = files.flatMap(componentClasses);

/** A sentence saying what a change does: "Changing it replaces ...", "... updates it in place", "Adding one adds ...". */
const CHANGE_EFFECT = /\b(chang(e|es|ing)|adding|removing|setting)\b[^.]*\b(replac\w*|in place|updates?|adds?|removes?|deletes?|creates?|changes nothing)\b/i;

test("the check sees every component's arguments", () => {
  const where = members.map((m) => m.where);
  for (const expected of [
    "dns.ts DnsArgs.caaIssuers",
    "tls.ts TlsArgs.caBundle",
    "firewall.ts FirewallRule.from",
    "appServer.ts AppServerArgs.database",
    "databaseHost.ts DatabaseHostArgs.firewall",
    "network.ts NetworkArgs.region",
  ]) {
    expect(where).toContain(expected);
  }
  expect(classes.map((c) => c.where).sort()).toEqual([
    "appServer.ts class AppServer",
    "databaseHost.ts class DatabaseHost",
    "dns.ts class Dns",
    "firewall.ts class Firewall",
    "network.ts class Network",
    "tls.ts class Tls",
  ]);
});

test.each(members.map((m) => [m.where, m]))("%s has an @example or @default", (_where, m) => {
  expect(m.doc).toMatch(/@(example|default)\b/);
});

test.each(members.map((m) => [m.where, m]))("%s says what changing it does", (_where, m) => {
  expect(m.doc).toMatch(CHANGE_EFFECT);
});

test.each(classes.map((c) => [c.where, c]))("%s states what it costs", (_where, c) => {
  expect(c.doc).toMatch(/\bcosts?\b|\$\d/i);
});
