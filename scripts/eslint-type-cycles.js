// An ESLint rule for the import cycles that eslint-plugin-import-x's no-cycle does not see: those with a
// type-only import in them (`import type`, `import { type X }`, `export type ... from`). import-x
// leaves every type-only import out of its walk, by design and with no option to keep them; but a
// cycle through a type still ties two modules together (neither can move to another layer, nor be
// understood, without the other), and the project's rule is no cycles at all (README, "Layout").
//
// Cycles made of value imports only stay import-x's to report, so that no cycle is reported twice:
// this rule reports an import when a path leads from its module back to the importing file, and
// either the import is type-only or every path back goes through a type-only import.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const ts = require("typescript");

/** What a file imports from the project's own files: { target (absolute), typeOnly, start, end }. */
function importsIn(file, text) {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found = [];
  const add = (specifier, typeOnly) => {
    if (!ts.isStringLiteralLike(specifier) || !specifier.text.startsWith(".")) return;
    const resolved = ts.resolveModuleName(specifier.text, file, { moduleResolution: ts.ModuleResolutionKind.Node10, allowJs: true }, ts.sys).resolvedModule;
    if (!resolved || resolved.isExternalLibraryImport || resolved.resolvedFileName.endsWith(".d.ts")) return;
    found.push({ target: path.resolve(resolved.resolvedFileName), typeOnly, start: specifier.getStart(source), end: specifier.getEnd() });
  };
  const allTypes = (elements) => elements.length > 0 && elements.every((e) => e.isTypeOnly);
  const visit = (node) => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : undefined;
      // `import "./x"` runs the module: a value import.
      add(node.moduleSpecifier, Boolean(clause && (clause.isTypeOnly || (!clause.name && named && allTypes(named)))));
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      add(node.moduleSpecifier, node.isTypeOnly || Boolean(node.exportClause && ts.isNamedExports(node.exportClause) && allTypes(node.exportClause.elements)));
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node.moduleReference.expression, node.isTypeOnly);
    } else if (
      ts.isCallExpression(node) &&
      node.arguments.length === 1 &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === "require"))
    ) {
      add(node.arguments[0], false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      // `typeof import("./x")` in a type.
      add(node.argument.literal, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Each project file's imports, read once per lint run. */
const graph = new Map();
function importsOf(file) {
  if (!graph.has(file)) graph.set(file, fs.existsSync(file) ? importsIn(file, fs.readFileSync(file, "utf8")) : []);
  return graph.get(file);
}

/** The shortest path of files from `from` back to `to`, following value imports only if asked; or undefined. */
function pathBack(from, to, valuesOnly) {
  const cameFrom = new Map([[from, undefined]]);
  const queue = [from];
  while (queue.length > 0) {
    const file = queue.shift();
    if (file === to) {
      const route = [];
      for (let f = file; f !== undefined; f = cameFrom.get(f)) route.unshift(f);
      return route;
    }
    for (const edge of importsOf(file)) {
      if ((valuesOnly && edge.typeOnly) || cameFrom.has(edge.target)) continue;
      cameFrom.set(edge.target, file);
      queue.push(edge.target);
    }
  }
  return undefined;
}

/** @type {import("eslint").Rule.RuleModule} */
const noTypeCycle = {
  meta: {
    type: "problem",
    docs: { description: "Forbid import cycles that go through a type-only import (import-x/no-cycle reports the others)" },
    schema: [],
    messages: { cycle: "Import cycle through a type-only import: {{route}}" },
  },
  create(context) {
    return {
      Program() {
        const file = path.resolve(context.physicalFilename);
        const root = context.cwd;
        // The text being linted, which an editor may not have saved; the other files are read from disk.
        const edges = importsIn(file, context.sourceCode.text);
        for (const edge of edges) {
          const route = pathBack(edge.target, file, false);
          if (!route) continue;
          // A value import with a path of values back is import-x/no-cycle's to report.
          if (!edge.typeOnly && pathBack(edge.target, file, true)) continue;
          const shown = [file, ...route].map((f) => path.relative(root, f)).join(" -> ");
          const loc = { start: context.sourceCode.getLocFromIndex(edge.start), end: context.sourceCode.getLocFromIndex(edge.end) };
          context.report({ loc, messageId: "cycle", data: { route: shown } });
        }
      },
    };
  },
};

module.exports = { meta: { name: "studyhost-type-cycles" }, rules: { "no-type-cycle": noTypeCycle } };
