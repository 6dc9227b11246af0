/**
 * Compares a CRD's OpenAPI schema with a TypeScript type, both ways, using the TypeScript
 * compiler's type checker on src/api. Returns one line per mismatch.
 */
import { join } from 'node:path';
import ts from 'typescript';
import type { JsonSchema } from './crds.js';

export interface ShapeChecker {
  /** Mismatches between `schema` and the `spec`/`status` member of the exported type `typeName`. */
  compareMember(typeName: string, member: 'spec' | 'status', schema: JsonSchema | undefined): string[];
}

export function createShapeChecker(repoRoot: string): ShapeChecker {
  const file = join(repoRoot, 'src', 'api', 'types.ts');
  const program = ts.createProgram([file], {
    strict: true,
    exactOptionalPropertyTypes: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  if (!source) throw new Error(`cannot load ${file}`);
  const moduleSymbol = checker.getSymbolAtLocation(source);
  const exports = moduleSymbol ? checker.getExportsOfModule(moduleSymbol) : [];

  function exported(name: string): ts.Type {
    const sym = exports.find((s) => s.name === name);
    if (!sym) throw new Error(`src/api/types.ts exports no type ${name}`);
    return checker.getDeclaredTypeOfSymbol(sym);
  }

  function propType(sym: ts.Symbol): ts.Type {
    const decl = sym.valueDeclaration ?? sym.declarations?.[0];
    if (!decl) throw new Error(`no declaration for ${sym.name}`);
    return checker.getNonNullableType(checker.getTypeOfSymbolAtLocation(sym, decl));
  }

  function members(t: ts.Type): ts.Type[] {
    return t.isUnion() ? t.types : [t];
  }

  function allFlags(t: ts.Type, flags: ts.TypeFlags): boolean {
    return members(t).every((m) => (m.flags & flags) !== 0);
  }

  function compare(schema: JsonSchema, t: ts.Type, path: string, out: string[]): void {
    const shown = checker.typeToString(t);
    switch (schema.type) {
      case 'string': {
        if (!allFlags(t, ts.TypeFlags.StringLike)) out.push(`${path}: schema says string, TypeScript has ${shown}`);
        if (schema.enum) {
          const literals = members(t)
            .filter((m) => m.isStringLiteral())
            .map((m) => (m as ts.StringLiteralType).value);
          const want = schema.enum.map(String).sort();
          if (literals.length === 0)
            out.push(`${path}: schema has enum [${want.join(', ')}], TypeScript has plain ${shown}`);
          else if (literals.sort().join('|') !== want.join('|')) {
            out.push(`${path}: enum [${want.join(', ')}] but TypeScript has ${shown}`);
          }
        }
        return;
      }
      case 'integer':
      case 'number':
        if (!allFlags(t, ts.TypeFlags.NumberLike))
          out.push(`${path}: schema says ${schema.type}, TypeScript has ${shown}`);
        return;
      case 'boolean':
        if (!allFlags(t, ts.TypeFlags.BooleanLike)) out.push(`${path}: schema says boolean, TypeScript has ${shown}`);
        return;
      case 'array': {
        if (!checker.isArrayType(t)) {
          out.push(`${path}: schema says array, TypeScript has ${shown}`);
          return;
        }
        const [element] = checker.getTypeArguments(t as ts.TypeReference);
        if (schema.items && element) compare(schema.items, element, `${path}[]`, out);
        return;
      }
      case 'object': {
        if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
          const index = checker.getIndexInfoOfType(t, ts.IndexKind.String);
          if (!index) out.push(`${path}: schema is a map, TypeScript has ${shown}`);
          else compare(schema.additionalProperties, index.type, `${path}{}`, out);
          return;
        }
        const props = schema.properties ?? {};
        const required = new Set(schema.required ?? []);
        const tsProps = new Map(checker.getPropertiesOfType(t).map((p) => [p.name, p] as const));
        for (const [name, sub] of Object.entries(props)) {
          const sym = tsProps.get(name);
          if (!sym) {
            out.push(`${path}.${name}: in the CRD schema but not in TypeScript`);
            continue;
          }
          const optional = (sym.flags & ts.SymbolFlags.Optional) !== 0;
          if (required.has(name) === optional) {
            out.push(
              `${path}.${name}: ${required.has(name) ? 'required in the schema but optional' : 'optional in the schema but required'} in TypeScript`,
            );
          }
          compare(sub, propType(sym), `${path}.${name}`, out);
        }
        for (const name of tsProps.keys()) {
          if (!(name in props)) out.push(`${path}.${name}: in TypeScript but not in the CRD schema`);
        }
        return;
      }
      default:
        out.push(`${path}: schema node without a type (not structural)`);
    }
  }

  return {
    compareMember(typeName, member, schema) {
      const root = exported(typeName);
      const sym = checker.getPropertyOfType(root, member);
      if (!schema && !sym) return [];
      if (!schema) return [`${typeName}.${member}: in TypeScript but not in the CRD schema`];
      if (!sym) return [`${typeName}.${member}: in the CRD schema but not in TypeScript`];
      const out: string[] = [];
      compare(schema, propType(sym), `${typeName}.${member}`, out);
      return out;
    },
  };
}
