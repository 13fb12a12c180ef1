import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type { Path } from './compare-shape.ts';

/**
 * Which fields the `stripe` SDK (v23, API 2026-10-28) declares on each object, read from its `.d.ts`
 * files. The emulator is compile-time typed as these types, and they are the reference for current
 * shapes: a field the fixture has and the SDK does not declare is a version difference, not a bug.
 *
 * The declaration files are machine-generated and regular, so a small reader does: interfaces (with
 * optional members, index signatures and generic parameters), namespaces, type aliases and imports.
 * Types are resolved lazily, per path, as the comparison asks about them.
 */

type Token = string;

type Scope = { file: string; namespaces: readonly string[]; bindings: ReadonlyMap<string, TypeRef> };

export type TypeRef = { tokens: readonly Token[]; scope: Scope };

type Member = { optional: boolean; type: TypeRef };

type Declaration =
  | { kind: 'interface'; params: string[]; members: Map<string, Member>; index: TypeRef[]; scope: Scope }
  | { kind: 'alias'; params: string[]; type: TypeRef };

type FileIndex = {
  declarations: Map<string, Declaration>;
  /** Imported name → [file, exported name]. */
  imports: Map<string, [string, string]>;
  /** `import * as Billing from './Billing/index.js'` → directory. */
  namespaceImports: Map<string, string>;
};

/** A resolved type: the object shapes and arrays a value of this type may be. */
export type Shape =
  | { kind: 'object'; members: Map<string, Member>; index: TypeRef[] }
  | { kind: 'array'; element: TypeRef };

const PRIMITIVES = new Set([
  'string',
  'number',
  'boolean',
  'null',
  'undefined',
  'void',
  'any',
  'unknown',
  'never',
  'true',
  'false',
  'Decimal',
  'OtherString',
  'Date',
]);

export class SdkTypes {
  readonly #files = new Map<string, FileIndex>();
  readonly #root: string;
  #objectTypes: Map<string, TypeRef> | undefined;

  constructor(root: string) {
    this.#root = root;
    for (const file of declarationFiles(root)) this.#files.set(file, indexFile(file));
  }

  /** Loads the installed SDK's declarations (`node_modules/stripe/esm`). */
  static installed(): SdkTypes {
    const entry = createRequire(import.meta.url).resolve('stripe'); // …/stripe/cjs/stripe.cjs.node.js
    return new SdkTypes(join(dirname(entry), '..', 'esm'));
  }

  /** A top-level type by its file (relative to `esm/resources`) and name, e.g. `Checkout/Sessions`. */
  type(file: string, name: string): TypeRef {
    const path = resolve(this.#root, 'resources', `${file}.d.ts`);
    if (!this.#files.get(path)?.declarations.has(name)) throw new Error(`no ${name} in ${file}.d.ts`);
    return { tokens: [name], scope: { file: path, namespaces: [], bindings: new Map() } };
  }

  /** The interface declaring `object: '<name>'` (`deleted_<name>` for its deleted variant). */
  objectType(name: string): TypeRef | undefined {
    this.#objectTypes ??= this.#indexObjectTypes();
    return this.#objectTypes.get(name);
  }

  /** A type with no shape: comparisons under it find no SDK evidence either way. */
  nothing(): TypeRef {
    return {
      tokens: ['never'],
      scope: { file: join(this.#root, 'lib.d.ts'), namespaces: [], bindings: new Map() },
    };
  }

  /** A list envelope (`ApiList<T>` or `ApiSearchResult<T>`) of the given element type. */
  envelope(kind: 'ApiList' | 'ApiSearchResult', element: TypeRef): TypeRef {
    const file = join(this.#root, 'lib.d.ts');
    return {
      tokens: [kind, '<', 'Element', '>'],
      scope: { file, namespaces: [], bindings: new Map([['Element', element]]) },
    };
  }

  #indexObjectTypes(): Map<string, TypeRef> {
    const out = new Map<string, TypeRef>();
    for (const [file, index] of this.#files)
      for (const [name, declaration] of index.declarations) {
        if (declaration.kind !== 'interface') continue;
        const literal = declaration.members.get('object')?.type.tokens;
        if (literal?.length !== 1 || !isLiteral(literal[0] ?? '')) continue;
        const deleted = declaration.members.get('deleted')?.type.tokens.join('') === 'true';
        const objectName = `${deleted ? 'deleted_' : ''}${literal[0]?.slice(1, -1)}`;
        if (!out.has(objectName))
          out.set(objectName, { tokens: [name], scope: { file, namespaces: [], bindings: new Map() } });
      }
    return out;
  }

  /** The shapes a value at `path` (below a value of type `root`) may take; empty when unknown. */
  shapesAt(root: TypeRef, path: Path): Shape[] {
    let shapes = this.shapes(root);
    for (const segment of path) {
      const next: Shape[] = [];
      for (const shape of shapes) {
        if (segment === '[]') {
          if (shape.kind === 'array') next.push(...this.shapes(shape.element));
          continue;
        }
        if (shape.kind !== 'object') continue;
        const member = shape.members.get(segment);
        if (member) next.push(...this.shapes(member.type));
        else for (const index of shape.index) next.push(...this.shapes(index));
      }
      shapes = next;
    }
    return shapes;
  }

  /**
   * Whether the SDK declares `key` on the object at `parent`: `undefined` when the parent cannot be
   * resolved (an untyped payload), so the caller cannot use the SDK as evidence either way.
   */
  declares(root: TypeRef, parent: Path, key: string): boolean | undefined {
    const objects = this.shapesAt(root, parent).filter((s) => s.kind === 'object');
    if (objects.length === 0) return undefined;
    return objects.some((s) => s.members.has(key) || s.index.length > 0);
  }

  /** A map (`Metadata`, `{ [key: string]: number }`): an object with an index signature only. */
  isMap(root: TypeRef, path: Path): boolean {
    const objects = this.shapesAt(root, path).filter((s) => s.kind === 'object');
    return objects.length > 0 && objects.every((s) => s.members.size === 0 && s.index.length > 0);
  }

  shapes(type: TypeRef, depth = 0): Shape[] {
    if (depth > 20) return [];
    const out: Shape[] = [];
    for (const member of splitTopLevel(type.tokens, '|'))
      out.push(...this.#memberShapes(member, type.scope, depth));
    return out;
  }

  #memberShapes(tokens: readonly Token[], scope: Scope, depth: number): Shape[] {
    if (tokens.length === 0) return [];
    const last = tokens.at(-1);
    if (last === ']' && tokens.at(-2) === '[')
      return [{ kind: 'array', element: { tokens: tokens.slice(0, -2), scope } }];
    const first = tokens[0] ?? '';
    if (first === '(' && last === ')') return this.shapes({ tokens: tokens.slice(1, -1), scope }, depth + 1);
    if (first === '{') return [objectLiteral(tokens, scope)];
    if (isLiteral(first) || PRIMITIVES.has(first)) return [];
    const { name, args } = reference(tokens);
    const argRefs = args.map((arg) => ({ tokens: arg, scope }));
    const bound = scope.bindings.get(name);
    if (bound) return this.shapes(bound, depth + 1);
    if (name === 'Array' || name === 'ReadonlyArray')
      return argRefs[0] ? [{ kind: 'array', element: argRefs[0] }] : [];
    if (['Partial', 'Required', 'Readonly', 'Emptyable', 'Response'].includes(name))
      return argRefs[0] ? this.shapes(argRefs[0], depth + 1) : [];
    const found = this.#lookup(name, scope);
    if (!found) return [];
    const [declaration, declarationScope] = found;
    const bindings = new Map(declarationScope.bindings);
    declaration.params.forEach((param, i) => {
      const arg = argRefs[i];
      if (arg) bindings.set(param, arg);
    });
    if (declaration.kind === 'alias')
      return this.shapes(
        { tokens: declaration.type.tokens, scope: { ...declaration.type.scope, bindings } },
        depth + 1,
      );
    const members = new Map<string, Member>();
    for (const [key, member] of declaration.members)
      members.set(key, {
        optional: member.optional,
        type: { tokens: member.type.tokens, scope: { ...member.type.scope, bindings } },
      });
    const index = declaration.index.map((ref) => ({ tokens: ref.tokens, scope: { ...ref.scope, bindings } }));
    return [{ kind: 'object', members, index }];
  }

  /** Resolves a (dotted) name from a scope: enclosing namespaces, then imports, then shared files. */
  #lookup(name: string, scope: Scope): [Declaration, Scope] | undefined {
    const file = this.#files.get(scope.file);
    if (!file) return undefined;
    for (let depth = scope.namespaces.length; depth >= 0; depth--) {
      const qualified = [...scope.namespaces.slice(0, depth), name].join('.');
      const declaration = file.declarations.get(qualified);
      if (declaration) return [declaration, scopeOf(declaration, scope.file, qualified)];
    }
    const [head = '', ...rest] = name.split('.');
    const imported = file.imports.get(head);
    if (imported) return this.#exported(imported[0], [imported[1], ...rest].join('.'));
    const directory = file.namespaceImports.get(head);
    if (directory && rest.length > 0) {
      for (const [path] of this.#files)
        if (dirname(path) === directory) {
          const found = this.#exported(path, rest.join('.'));
          if (found) return found;
        }
    }
    return undefined;
  }

  #exported(path: string, qualified: string): [Declaration, Scope] | undefined {
    const declaration = this.#files.get(path)?.declarations.get(qualified);
    return declaration && [declaration, scopeOf(declaration, path, qualified)];
  }
}

function scopeOf(declaration: Declaration, file: string, qualified: string): Scope {
  if (declaration.kind === 'interface') return declaration.scope;
  return { file, namespaces: qualified.split('.').slice(0, -1), bindings: new Map() };
}

function declarationFiles(root: string): string[] {
  const out = [join(root, 'shared.d.ts'), join(root, 'lib.d.ts')];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.d.ts')) out.push(path);
    }
  };
  walk(join(root, 'resources'));
  return out;
}

function indexFile(file: string): FileIndex {
  const tokens = tokenize(readFileSync(file, 'utf8'));
  const index: FileIndex = { declarations: new Map(), imports: new Map(), namespaceImports: new Map() };
  parseBlock(tokens, 0, file, [], index);
  return index;
}

/** Identifiers, string literals, `=>`, and single punctuation characters; comments dropped. */
export function tokenize(source: string): Token[] {
  const pattern =
    /\/\*[\s\S]*?\*\/|\/\/[^\n]*|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|=>|[A-Za-z_$][\w$]*|\d+(?:\.\d+)?|\S/g;
  return (source.match(pattern) ?? []).filter((t) => !t.startsWith('/*') && !t.startsWith('//'));
}

/** Parses declarations until the closing brace of the block; returns the index after it. */
function parseBlock(
  tokens: Token[],
  start: number,
  file: string,
  namespaces: string[],
  out: FileIndex,
): number {
  let i = start;
  while (i < tokens.length) {
    const token = tokens[i];
    if (token === '}') return i + 1;
    if (token === 'export' || token === 'declare') {
      i++;
      continue;
    }
    if (token === 'import') {
      i = parseImport(tokens, i, file, out);
      continue;
    }
    if (token === 'namespace') {
      const name = tokens[i + 1] ?? '';
      i = parseBlock(tokens, i + 3, file, [...namespaces, name], out);
      continue;
    }
    if (token === 'interface') {
      i = parseInterface(tokens, i + 1, file, namespaces, out);
      continue;
    }
    if (
      token === 'type' &&
      /^[A-Za-z_$]/.test(tokens[i + 1] ?? '') &&
      ['=', '<'].includes(tokens[i + 2] ?? '')
    ) {
      i = parseAlias(tokens, i + 1, file, namespaces, out);
      continue;
    }
    i = skipStatement(tokens, i);
  }
  return i;
}

function parseImport(tokens: Token[], start: number, file: string, out: FileIndex): number {
  const end = tokens.indexOf(';', start);
  const statement = tokens.slice(start, end);
  const source = statement.at(-1)?.slice(1, -1) ?? '';
  const target = resolve(dirname(file), source.replace(/\.js$/, '.d.ts'));
  if (statement[1] === '*') out.namespaceImports.set(statement[3] ?? '', dirname(target));
  else {
    const open = statement.indexOf('{');
    const close = statement.indexOf('}');
    const names = splitTopLevel(statement.slice(open + 1, close), ',');
    for (const name of names) {
      const [exported = '', , local = exported] = name;
      out.imports.set(local, [target, exported]);
    }
  }
  return end + 1;
}

function parseInterface(
  tokens: Token[],
  start: number,
  file: string,
  namespaces: string[],
  out: FileIndex,
): number {
  const name = tokens[start] ?? '';
  let i = start + 1;
  const params = tokens[i] === '<' ? typeParams(tokens, i) : [];
  while (tokens[i] !== '{') i++;
  const qualified = [...namespaces, name].join('.');
  const scope: Scope = { file, namespaces, bindings: new Map() };
  const members = new Map<string, Member>();
  const index: TypeRef[] = [];
  i++;
  while (tokens[i] !== '}' && i < tokens.length) {
    const end = memberEnd(tokens, i);
    const member = tokens.slice(i, end);
    i = end + 1;
    if (member[0] === '[') {
      const colon = member.indexOf(':', member.indexOf(']'));
      index.push({ tokens: member.slice(colon + 1), scope });
      continue;
    }
    const key = (member[0] ?? '').replace(/^['"]|['"]$/g, '');
    const optional = member[1] === '?';
    const colon = optional ? 2 : 1;
    if (member[colon] !== ':') continue; // a method signature: not a field
    members.set(key, { optional, type: { tokens: member.slice(colon + 1), scope } });
  }
  out.declarations.set(qualified, { kind: 'interface', params, members, index, scope });
  return i + 1;
}

function parseAlias(
  tokens: Token[],
  start: number,
  file: string,
  namespaces: string[],
  out: FileIndex,
): number {
  const name = tokens[start] ?? '';
  let i = start + 1;
  const params = tokens[i] === '<' ? typeParams(tokens, i) : [];
  while (tokens[i] !== '=') i++;
  const end = memberEnd(tokens, i + 1);
  const type = { tokens: tokens.slice(i + 1, end), scope: { file, namespaces, bindings: new Map() } };
  out.declarations.set([...namespaces, name].join('.'), { kind: 'alias', params, type });
  return end + 1;
}

function typeParams(tokens: Token[], open: number): string[] {
  const close = matching(tokens, open);
  return splitTopLevel(tokens.slice(open + 1, close), ',').map((param) => param[0] ?? '');
}

/** The index of the `;` (or closing `}`) ending the member starting at `start`, at nesting depth 0. */
function memberEnd(tokens: Token[], start: number): number {
  let depth = 0;
  for (let i = start; i < tokens.length; i++) {
    const token = tokens[i];
    if (token === '{' || token === '(' || token === '[' || token === '<') depth++;
    else if (token === '}' || token === ')' || token === ']' || token === '>') {
      if (depth === 0) return i;
      depth--;
    } else if (token === ';' && depth === 0) return i;
  }
  return tokens.length;
}

function skipStatement(tokens: Token[], start: number): number {
  let depth = 0;
  for (let i = start; i < tokens.length; i++) {
    const token = tokens[i];
    if (token === '{') depth++;
    else if (token === '}') {
      if (depth === 0) return i;
      depth--;
      if (depth === 0) return i + 1;
    } else if (token === ';' && depth === 0) return i + 1;
  }
  return tokens.length;
}

function matching(tokens: readonly Token[], open: number): number {
  const pairs: Record<string, string> = { '<': '>', '{': '}', '(': ')', '[': ']' };
  const opener = tokens[open] ?? '';
  const closer = pairs[opener];
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    if (tokens[i] === opener) depth++;
    else if (tokens[i] === closer && --depth === 0) return i;
  }
  return tokens.length;
}

export function splitTopLevel(tokens: readonly Token[], separator: string): Token[][] {
  const parts: Token[][] = [[]];
  let depth = 0;
  for (const token of tokens) {
    if (token === '{' || token === '(' || token === '[' || token === '<') depth++;
    if (token === '}' || token === ')' || token === ']' || token === '>') depth--;
    if (token === separator && depth === 0) parts.push([]);
    else parts.at(-1)?.push(token);
  }
  return parts.filter((part) => part.length > 0);
}

function reference(tokens: readonly Token[]): { name: string; args: Token[][] } {
  const open = tokens.indexOf('<');
  const nameTokens = open < 0 ? tokens : tokens.slice(0, open);
  const args = open < 0 ? [] : splitTopLevel(tokens.slice(open + 1, matching(tokens, open)), ',');
  return { name: nameTokens.join(''), args };
}

function objectLiteral(tokens: readonly Token[], scope: Scope): Shape {
  const members = new Map<string, Member>();
  const index: TypeRef[] = [];
  const body = tokens.slice(1, matching(tokens, 0));
  for (const member of splitTopLevel(body, ';')) {
    if (member[0] === '[') {
      const colon = member.indexOf(':', member.indexOf(']'));
      index.push({ tokens: member.slice(colon + 1), scope });
      continue;
    }
    const optional = member[1] === '?';
    const colon = optional ? 2 : 1;
    if (member[colon] === ':')
      members.set(member[0] ?? '', { optional, type: { tokens: member.slice(colon + 1), scope } });
  }
  return { kind: 'object', members, index };
}

const isLiteral = (token: string) => /^['"\d-]/.test(token);
