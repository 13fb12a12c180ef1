import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { z } from 'zod';
import type { StripeError } from '../src/core/errors.ts';
import { expand } from '../src/core/expand.ts';
import { fingerprint, IdempotencyKeys } from '../src/core/idempotency.ts';
import { paginate } from '../src/core/list.ts';
import { bool, int, list, metadata, oneOf, parseFormEncoded, validate } from '../src/core/params.ts';
import { parseQuery, search } from '../src/core/search.ts';

const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `obj_${n - i}` }));

describe('pagination', () => {
  it('visits every row exactly once, newest first, whatever the page size (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1, max: 100 }), (count, limit) => {
        const all = rows(count);
        const seen: string[] = [];
        let cursor: string | undefined;
        for (;;) {
          const page = paginate(all, { limit, starting_after: cursor }, '/v1/x', 'x');
          seen.push(...page.data.map((row) => row.id));
          if (!page.has_more) break;
          cursor = page.data.at(-1)?.id;
        }
        assert.deepEqual(
          seen,
          all.map((row) => row.id),
        );
      }),
    );
  });

  it('pages backwards with ending_before to the same rows (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 20 }), (count, limit) => {
        const all = rows(count);
        const seen: string[] = [];
        let cursor = all.at(-1)?.id as string;
        seen.push(cursor);
        for (;;) {
          const page = paginate(all, { limit, ending_before: cursor }, '/v1/x', 'x');
          seen.unshift(...page.data.map((row) => row.id));
          if (!page.has_more) break;
          cursor = page.data[0]?.id as string;
        }
        assert.deepEqual(
          seen,
          all.map((row) => row.id),
        );
      }),
    );
  });

  it('answers an unknown cursor with resource_missing on the cursor parameter', () => {
    assert.throws(
      () => paginate(rows(3), { starting_after: 'obj_nope' }, '/v1/x', 'customer'),
      (error: StripeError) => error.status === 404 && error.body.param === 'starting_after',
    );
  });
});

describe('parameters', () => {
  const schema = z.strictObject({
    amount: int({ min: 0 }),
    live: bool().optional(),
    interval: oneOf(['day', 'month']).optional(),
    items: list(z.strictObject({ price: z.string(), quantity: int().optional() })).optional(),
    metadata: metadata().optional(),
  });
  const codeOf = (raw: string) => {
    try {
      validate(schema, parseFormEncoded(raw));
      return 'ok';
    } catch (error) {
      const body = (error as StripeError).body;
      return `${body.code ?? body.type}:${body.param}`;
    }
  };

  const cases: [string, string][] = [
    ['amount=5', 'ok'],
    ['', 'parameter_missing:amount'],
    ['amount=five', 'parameter_invalid_integer:amount'],
    ['amount=-1', 'invalid_request_error:amount'],
    ['amount=1&colour=red', 'parameter_unknown:colour'],
    ['amount=1&items[0][price]=p&items[0][prise]=q', 'parameter_unknown:items[0][prise]'],
    ['amount=1&items[0][quantity]=2', 'parameter_missing:items[0][price]'],
    ['amount=1&items[0][price]=p&items[0][quantity]=x', 'parameter_invalid_integer:items[0][quantity]'],
    ['amount=1&live=yes', 'invalid_request_error:live'],
    ['amount=1&interval=year', 'invalid_request_error:interval'],
    ['amount=1&metadata[k]=v', 'ok'],
    ['amount=1&metadata=', 'ok'],
  ];
  for (const [raw, expected] of cases)
    it(`${raw || '(empty)'} → ${expected}`, () => assert.equal(codeOf(raw), expected));

  it('parses nested, indexed parameters the way the SDK encodes them', () => {
    const parsed = validate(
      schema,
      parseFormEncoded('amount=3&items[0][price]=a&items[1][price]=b&items[1][quantity]=4'),
    );
    assert.deepEqual(parsed.items, [{ price: 'a' }, { price: 'b', quantity: 4 }]);
  });
});

describe('search queries', () => {
  const customers = [
    { id: 'cus_1', email: 'a@example.com', name: 'Acme Corp', created: 10, metadata: { org: '1' } },
    { id: 'cus_2', email: 'b@example.com', name: 'Beta', created: 20, metadata: { org: '2' } },
  ];
  const fields = {
    email: (c: (typeof customers)[number]) => c.email,
    name: (c: (typeof customers)[number]) => c.name,
    created: (c: (typeof customers)[number]) => c.created,
  };
  const ids = (query: string) => search(customers, { query }, fields, '/s').data.map((c) => c.id);

  it('matches metadata, exact fields, substrings, numbers, negation, AND and OR', () => {
    assert.deepEqual(ids("metadata['org']:'2'"), ['cus_2']);
    assert.deepEqual(ids("email:'A@example.com'"), ['cus_1']);
    assert.deepEqual(ids("name~'acm'"), ['cus_1']);
    assert.deepEqual(ids('created>15'), ['cus_2']);
    assert.deepEqual(ids("-metadata['org']:'2'"), ['cus_1']);
    assert.deepEqual(ids("email:'a@example.com' OR email:'b@example.com'"), ['cus_1', 'cus_2']);
    assert.deepEqual(ids("email:'a@example.com' AND metadata['org']:'2'"), []);
  });

  it('keeps AND, OR and escaped quotes inside a quoted value as part of the value', () => {
    const named = [
      {
        id: 'cus_or',
        email: 'or@example.com',
        name: 'x',
        created: 30,
        metadata: { org: "a:b OR metadata['org']:'2'" },
      },
      {
        id: 'cus_and',
        email: 'and@example.com',
        name: 'y',
        created: 40,
        metadata: { org: "it's \\ R AND D" },
      },
    ];
    const found = (query: string) => search(named, { query }, fields, '/s').data.map((c) => c.id);
    assert.deepEqual(found("metadata['org']:'a:b OR metadata[\\'org\\']:\\'2\\''"), ['cus_or']);
    assert.deepEqual(found("metadata['org']:'it\\'s \\\\ R AND D'"), ['cus_and']);
    assert.deepEqual(found('metadata["org"]:"it\'s \\\\ R AND D" OR name:\'x\''), ['cus_or', 'cus_and']);
    assert.deepEqual(parseQuery("metadata['a OR b']:'1'").clauses[0]?.metadataKey, 'a OR b');
  });

  it('rejects malformed queries and mixed AND/OR with a 400 on query', () => {
    for (const query of [
      'email=',
      "a:'1' AND b:'2' OR c:'3'",
      "name~'ab'",
      "email:'open",
      "email:'a' AND ",
      ' OR ',
    ])
      assert.throws(
        () => parseQuery(query),
        (error: StripeError) => error.status === 400 && error.body.param === 'query',
      );
  });
});

describe('expand', () => {
  const tables: Record<string, Record<string, unknown>> = {
    customer: { cus_1: { id: 'cus_1', object: 'customer', test_clock: null } },
    invoice: { in_1: { id: 'in_1', object: 'invoice', customer: 'cus_1' } },
  };
  const lookups = {
    resolve: (name: string, id: string) => tables[name]?.[id],
    include: (object: Record<string, unknown>, field: string) =>
      object.object === 'customer' && field === 'tax' ? { provider: 'stripe' } : undefined,
  };

  it('expands nested paths and list data without touching the stored object', () => {
    const subscription = { id: 'sub_1', object: 'subscription', latest_invoice: 'in_1' };
    const out = expand(subscription, ['latest_invoice.customer'], lookups);
    assert.equal((out.latest_invoice as unknown as { customer: { id: string } }).customer.id, 'cus_1');
    assert.equal(subscription.latest_invoice, 'in_1');
    const page = { object: 'list', data: [{ id: 'in_1', object: 'invoice', customer: 'cus_1' }] };
    const [first] = expand(page, ['data.customer'], lookups).data;
    assert.deepEqual(first?.customer, tables.customer?.cus_1);
  });

  it('computes includable fields and rejects fields that cannot be expanded', () => {
    assert.deepEqual(expand({ id: 'cus_1', object: 'customer' }, ['tax'], lookups), {
      id: 'cus_1',
      object: 'customer',
      tax: { provider: 'stripe' },
    });
    assert.throws(
      () => expand({ id: 'cus_1', object: 'customer' }, ['nonsense'], lookups),
      /cannot be expanded/,
    );
    assert.throws(() => expand({ id: 'x', object: 'x' }, ['a.b.c.d.e'], lookups), /more than 4 levels/);
  });
});

describe('idempotency keys', () => {
  it('replays the same request, refuses other parameters, forgets after 24 hours', () => {
    const keys = new IdempotencyKeys();
    const print = fingerprint('post', '/v1/customers', { email: 'a', metadata: { x: '1', y: '2' } });
    const reordered = fingerprint('post', '/v1/customers', { metadata: { y: '2', x: '1' }, email: 'a' });
    assert.equal(print, reordered);
    assert.equal(keys.decide('test:platform', 'k', print, 0).kind, 'execute');
    keys.save('test:platform', 'k', print, 200, '{"id":"cus_1"}', 0);
    assert.deepEqual(keys.decide('test:platform', 'k', print, 1_000), {
      kind: 'replay',
      status: 200,
      body: '{"id":"cus_1"}',
    });
    assert.equal(keys.decide('test:acct_1', 'k', print, 1_000).kind, 'execute');
    const other = fingerprint('post', '/v1/customers', { email: 'b' });
    assert.throws(
      () => keys.decide('test:platform', 'k', other, 1_000),
      (error: StripeError) => error.body.type === 'idempotency_error',
    );
    assert.equal(keys.decide('test:platform', 'k', other, 25 * 3_600_000).kind, 'execute');
  });
});
