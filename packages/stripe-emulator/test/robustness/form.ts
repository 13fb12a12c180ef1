import fc from 'fast-check';

/** A parameter value as Stripe's form encoding can carry it: strings, nested hashes, arrays. */
export type FormValue = string | FormValue[] | { [key: string]: FormValue };

/** Percent-encodes any string, lone surrogates included (as U+FFFD, which is what UTF-8 can carry). */
export const encode = (text: string) => encodeURIComponent(Buffer.from(text, 'utf8').toString('utf8'));

/** `{ items: [{ price: 'p' }] }` → `items[0][price]=p`, the way the official SDK encodes. */
export function encodeForm(params: Record<string, FormValue>): string {
  const pairs: string[] = [];
  const walk = (name: string, value: FormValue) => {
    if (typeof value === 'string') pairs.push(`${encode(name)}=${encode(value)}`);
    else if (Array.isArray(value)) {
      for (const [index, item] of value.entries()) walk(`${name}[${index}]`, item);
    } else for (const [key, item] of Object.entries(value)) walk(`${name}[${key}]`, item);
  };
  for (const [key, value] of Object.entries(params)) walk(key, value);
  return pairs.join('&');
}

/** Strings that break naive parsers and validators: unicode, control bytes, brackets, injections. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '0',
    '-1',
    '1e309',
    'NaN',
    'null',
    'undefined',
    'true',
    '[]',
    '{}',
    '__proto__',
    'constructor',
    'toString',
    '💳🧾',
    'e\u0301',
    '\u0000',
    '\uFEFF',
    '\uD800',
    'a\r\nb',
    '\'"\\',
    '%',
    '%ZZ',
    '%E0%A4%A',
    '../..',
    '$' + '{x}',
    "' OR '1'='1",
  ),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.integer({ min: 5_000, max: 60_000 }).map((n) => 'x'.repeat(n)),
);

const keySegment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', '0', '1', '999999', '-1', 'data', 'metadata', 'expand', 'items', 'id', 'object'),
  fc.stringMatching(/^[a-z_]{1,12}$/),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
);

/** A key with bracket nesting as the form encoding allows it: `a`, `a[0][b]`, `a[]`, up to 30 deep. */
export const formKey: fc.Arbitrary<string> = fc
  .tuple(keySegment, fc.array(keySegment, { maxLength: 30, depthIdentifier: 'key' }))
  .map(([head, rest]) => `${encode(head)}${rest.map((s) => `[${encode(s)}]`).join('')}`);

/** Raw bytes of a form body a sloppy client might send, including broken percent-escapes and brackets. */
export const malformedFormBody: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      {
        weight: 6,
        arbitrary: fc.tuple(formKey, nastyString).map(([k, v]) => `${k}=${encode(v)}`),
      },
      {
        weight: 2,
        arbitrary: fc.constantFrom(
          '=',
          '&',
          '==',
          'a=1=2',
          'a[=1',
          'a]=1',
          'a[b=1',
          '[]=1',
          '[0]=x',
          'a[][]=1',
          'a[0]=1&a[b]=2',
          'a=1&a[b]=2',
          'a[b]=1&a=2',
          'a[1001]=x',
          'a[999999999999]=x',
          '%ZZ=1',
          'a=%',
          'a=%E0%A4%A',
          'expand[]=a.b.c.d.e.f',
          'expand[0][x]=y',
          'expand=customer',
          'limit=abc',
          'metadata=x&metadata[a]=b',
          `${'a['.repeat(200)}x${']'.repeat(200)}=1`,
          `k${'[x]'.repeat(100)}=1`,
        ),
      },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    ),
    { maxLength: 8 },
  )
  .map((parts) => parts.join('&'));

/** Parameters of any shape under random names: what a confused client sends to the wrong endpoint. */
export const randomParams: fc.Arbitrary<Record<string, FormValue>> = fc.letrec<{
  value: FormValue;
  params: Record<string, FormValue>;
}>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    nastyString,
    fc.array(tie('value'), { maxLength: 3 }),
    tie('params'),
  ),
  params: fc.dictionary(fc.stringMatching(/^[a-z_]{1,10}$/), tie('value'), { maxKeys: 4 }),
})).params;
