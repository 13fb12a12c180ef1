import fc from 'fast-check';
import type { z } from 'zod';
import { type FormValue, nastyString } from './form.ts';

/** What the fuzzer knows beyond a route's schema: Stripe's enum values by name, and ids to refer to. */
export type Vocabulary = { enums: Map<string, string[]>; ids: string[] };

type Def = {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  options?: z.ZodType[];
  element?: z.ZodType;
  valueType?: z.ZodType;
  values?: unknown[];
  entries?: Record<string, unknown>;
  getter?: () => z.ZodType;
  left?: z.ZodType;
};

const defOf = (schema: z.ZodType) => (schema as unknown as { _zod: { def: Def } })._zod.def;

const MAX_DEPTH = 5;
const MAX_OPTIONAL_KEYS = 4;

const numbers = fc.constantFrom(
  '0',
  '1',
  '2',
  '-1',
  '3',
  '100',
  '1000',
  '86400',
  '1700000000',
  '4102444800',
  '99999999999',
  '1.5',
);
const booleans = fc.constantFrom('true', 'false');
const currencies = fc.constantFrom('usd', 'eur', 'jpy', 'USD', 'xyz');
const urls = fc.constantFrom('https://example.com/ok', 'not a url', 'http://127.0.0.1:1/hook');
const unknownIds = [
  'cus_unknown0000',
  'price_unknown000',
  'prod_unknown000',
  'pm_card_visa',
  'pm_card_chargeDeclined',
  'tok_visa',
  'sub_unknown00000',
  'in_unknown000000',
];

/** A plausible value for a string parameter called `name`: its Stripe enum values, ids, numbers, junk. */
function leaf(name: string, vocabulary: Vocabulary): fc.Arbitrary<string> {
  const enums = vocabulary.enums.get(name);
  const ids = fc.constantFrom(...vocabulary.ids, ...unknownIds);
  const choices: fc.WeightedArbitrary<string>[] = [
    { weight: 3, arbitrary: ids },
    { weight: 3, arbitrary: numbers },
    { weight: 1, arbitrary: booleans },
    { weight: name === 'currency' ? 6 : 1, arbitrary: currencies },
    { weight: name.endsWith('url') ? 6 : 1, arbitrary: urls },
    { weight: 1, arbitrary: nastyString },
  ];
  if (enums && enums.length > 0) choices.push({ weight: 10, arbitrary: fc.constantFrom(...enums) });
  return fc.oneof(...choices);
}

/** A value of the wrong shape: a list or a hash where a string belongs, or a string where a hash does. */
const wrongShape = (name: string, vocabulary: Vocabulary): fc.Arbitrary<FormValue> =>
  fc.oneof(
    fc.array(leaf(name, vocabulary), { minLength: 1, maxLength: 2 }),
    fc.record({ [name || 'x']: leaf(name, vocabulary) }),
    leaf(name, vocabulary),
  );

const isOptional = (schema: z.ZodType) => ['optional', 'default', 'prefault'].includes(defOf(schema).type);

/**
 * Values shaped like what a zod parameter schema accepts, mostly valid enough to reach the handler,
 * sometimes wrong in one place. Optional parameters appear a few at a time.
 */
export function valuesFor(
  schema: z.ZodType,
  name: string,
  vocabulary: Vocabulary,
  depth = 0,
): fc.Arbitrary<FormValue> {
  const shaped = shapedValues(schema, name, vocabulary, depth);
  if (depth === 0) return shaped;
  return fc.oneof({ weight: 15, arbitrary: shaped }, { weight: 1, arbitrary: wrongShape(name, vocabulary) });
}

function shapedValues(
  schema: z.ZodType,
  name: string,
  vocabulary: Vocabulary,
  depth: number,
): fc.Arbitrary<FormValue> {
  const def = defOf(schema);
  if (depth > MAX_DEPTH) return leaf(name, vocabulary);
  const inner = (child: z.ZodType, childName = name, nextDepth = depth) =>
    valuesFor(child, childName, vocabulary, nextDepth);
  switch (def.type) {
    case 'object':
      return objectValues(def.shape ?? {}, vocabulary, depth);
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      return shapedValues(def.innerType as z.ZodType, name, vocabulary, depth);
    case 'pipe': {
      const input = def.in as z.ZodType;
      const side = defOf(input).type === 'transform' ? (def.out as z.ZodType) : input;
      return shapedValues(side, name, vocabulary, depth);
    }
    case 'union':
      return fc.oneof(...(def.options ?? []).map((option) => shapedValues(option, name, vocabulary, depth)));
    case 'literal':
      return fc.constantFrom(...(def.values ?? ['']).map(String));
    case 'enum':
      return fc.constantFrom(...Object.values(def.entries ?? { x: 'x' }).map(String));
    case 'array':
      return fc.array(inner(def.element as z.ZodType, name, depth + 1), { maxLength: 3 });
    case 'record':
      return fc.dictionary(
        fc.stringMatching(/^[a-z_]{1,8}$/),
        inner(def.valueType as z.ZodType, name, depth + 1),
        {
          maxKeys: 3,
        },
      );
    case 'lazy':
      return shapedValues((def.getter as () => z.ZodType)(), name, vocabulary, depth + 1);
    case 'intersection':
      return shapedValues(def.left as z.ZodType, name, vocabulary, depth);
    default:
      return leaf(name, vocabulary);
  }
}

function objectValues(
  shape: Record<string, z.ZodType>,
  vocabulary: Vocabulary,
  depth: number,
): fc.Arbitrary<Record<string, FormValue>> {
  const keys = Object.keys(shape);
  const required = keys.filter((key) => !isOptional(shape[key] as z.ZodType));
  const optional = keys.filter((key) => isOptional(shape[key] as z.ZodType));
  const built = new Map<string, fc.Arbitrary<FormValue>>();
  const arbitraryFor = (key: string) => {
    let arbitrary = built.get(key);
    if (!arbitrary) {
      arbitrary = valuesFor(shape[key] as z.ZodType, key, vocabulary, depth + 1);
      built.set(key, arbitrary);
    }
    return arbitrary;
  };
  // Chosen keys first, values second: a wide schema (checkout sessions) would otherwise build and
  // generate every branch of every nested parameter for each sample.
  return fc
    .subarray(optional, { maxLength: Math.min(MAX_OPTIONAL_KEYS, optional.length) })
    .chain((chosen) =>
      fc.record(Object.fromEntries([...required, ...chosen].map((key) => [key, arbitraryFor(key)]))),
    );
}
