/**
 * A publish composes the SDL its routing URL serves, and the SDL posted must say the same:
 * else the registry would check one schema and route to another. Both are normalised the
 * same way (built as a subgraph schema and printed, so order, spacing and comments do not
 * count) and compared definition by definition; the first difference is named. Descriptions
 * do not count: they change no plan and no answer, and the posted ones are what the
 * supergraph documents (a supplier may correct a description without redeploying).
 */
import { buildSubgraphSchema, printSubgraphSchema } from '@apollo/subgraph';
import { parse, print, visit, type ASTNode, type DefinitionNode } from 'graphql';

/** Each definition of `sdl` as printed, keyed by kind and name, in the order given. */
function definitions(sdl: string): Map<string, string> {
  let printed: string;
  try {
    printed = printSubgraphSchema(buildSubgraphSchema(parse(sdl)));
  } catch {
    printed = print(parse(sdl)); // not a valid subgraph: the other checks say why; compare as written
  }
  const out = new Map<string, string>();
  const undocumented = visit(parse(printed), {
    enter: (node: ASTNode) => ('description' in node && node.description ? { ...node, description: undefined } : undefined),
  });
  for (const d of undocumented.definitions) {
    const key = keyOf(d);
    out.set(key, out.has(key) ? `${out.get(key)}\n${print(d)}` : print(d));
  }
  return out;
}

/** SDL's own word for each kind of definition. */
const WORDS: Readonly<Record<string, string>> = {
  ObjectType: 'type',
  InterfaceType: 'interface',
  UnionType: 'union',
  EnumType: 'enum',
  InputObjectType: 'input',
  ScalarType: 'scalar',
  Directive: 'directive',
  Schema: 'schema',
};
const keyOf = (d: DefinitionNode) => {
  const kind = d.kind.replace(/(Definition|Extension)$/, '');
  return `${WORDS[kind] ?? kind} ${'name' in d && d.name ? d.name.value : ''}`.trim();
};

/** The first line where `a` and `b` differ, as `a`'s and `b`'s versions of it. */
function firstLine(a: string, b: string): [string, string] {
  const la = a.split('\n');
  const lb = b.split('\n');
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    if (la[i] !== lb[i]) return [la[i]?.trim() ?? '(nothing)', lb[i]?.trim() ?? '(nothing)'];
  }
  return ['', ''];
}

/** How the SDL posted differs from the SDL served (the first difference), or null when they define the same subgraph. */
export function servedSdlMismatch(posted: string, served: string): string | null {
  const mine = definitions(posted);
  const theirs = definitions(served);
  for (const key of [...new Set([...mine.keys(), ...theirs.keys()])].sort()) {
    const a = mine.get(key);
    const b = theirs.get(key);
    if (a === b) continue;
    if (a === undefined) return `${key} is served but not in the SDL posted`;
    if (b === undefined) return `${key} is in the SDL posted but not served`;
    const [pa, pb] = firstLine(a, b);
    return `${key} differs: posted ${JSON.stringify(pa.slice(0, 200))}, served ${JSON.stringify(pb.slice(0, 200))}`;
  }
  return null;
}
