// How init reads PostgreSQL's own words for a column's rules: CHECK constraints as
// pg_get_constraintdef prints them, and a table shape turned into fields (no database needed here;
// test/integration/transform-init.test.ts reads a real table).
import { describe, expect, it } from 'vitest';
import { MAX_SAFE } from '../../relay/contracts/codes.ts';
import { checkBounds, checkValues, fieldsFromTable, parseTableName, type TableShape } from './pg-columns.ts';

describe('CHECK constraints as PostgreSQL prints them', () => {
  it('reads an IN list (stored as = ANY (ARRAY[...])), quotes included', () => {
    expect(
      checkValues("CHECK ((state = ANY (ARRAY['open'::text, 'shipped'::text, 'closed'::text])))"),
    ).toEqual(['open', 'shipped', 'closed']);
    expect(
      checkValues(
        "CHECK (((kind)::text = ANY ((ARRAY['a'::character varying, 'it''s'::character varying])::text[])))",
      ),
    ).toEqual(['a', "it's"]);
    expect(checkValues('CHECK ((qty > 0))')).toBeNull();
  });
  it('reads integer bounds, BETWEEN included (stored as >= AND <=)', () => {
    expect(checkBounds('CHECK (((qty >= 1) AND (qty <= 100)))', 'qty')).toEqual({ min: 1, max: 100 });
    expect(checkBounds('CHECK ((qty > 0))', 'qty')).toEqual({ min: 1 });
    expect(checkBounds('CHECK ((qty < 10))', 'qty')).toEqual({ max: 9 });
    expect(checkBounds('CHECK ((other > 5))', 'qty')).toEqual({});
  });
});

describe('a table shape becomes fields', () => {
  const col = (over: Partial<TableShape['columns'][number]>) => ({
    name: 'x',
    type: 'text',
    nullable: true,
    maxLength: null,
    values: null,
    min: null,
    max: null,
    primaryKey: false,
    ...over,
  });
  it('puts the integer key first and keeps the table order for the rest', () => {
    const { fields } = fieldsFromTable({
      schema: 'public',
      table: 't',
      columns: [
        col({ name: 'label', type: 'character varying', maxLength: 20, nullable: false }),
        col({
          name: 'order_id',
          type: 'integer',
          nullable: false,
          primaryKey: true,
          min: -2_147_483_648,
          max: 2_147_483_647,
        }),
        col({ name: 'big', type: 'bigint', min: -MAX_SAFE, max: MAX_SAFE }),
        col({ name: 'ref', type: 'uuid' }),
      ],
    });
    expect(fields).toEqual([
      { name: 'order_id', out: 'orderId', kind: 'id', required: true },
      { name: 'label', out: 'label', kind: 'string', required: true, maxLength: 20 },
      { name: 'big', out: 'big', kind: 'int', required: false, min: -MAX_SAFE, max: MAX_SAFE },
      { name: 'ref', out: 'ref', kind: 'string', required: false, maxLength: 36 },
    ]);
  });
  it('refuses a table without one integer primary key, naming it', () => {
    const shape = (columns: TableShape['columns']) => ({ schema: 'public', table: 't', columns });
    expect(() => fieldsFromTable(shape([col({ name: 'a' })]))).toThrow(/has no primary key/);
    expect(() => fieldsFromTable(shape([col({ name: 'code', primaryKey: true })]))).toThrow(
      /primary key \(code\).*one integer primary key/,
    );
    expect(() =>
      fieldsFromTable(
        shape([
          col({ name: 'a', type: 'integer', primaryKey: true }),
          col({ name: 'b', type: 'integer', primaryKey: true }),
        ]),
      ),
    ).toThrow(/primary key \(a, b\)/);
  });
  it('reads schema.table, defaulting to public, and refuses anything else', () => {
    expect(parseTableName('orders')).toEqual({ schema: 'public', table: 'orders' });
    expect(parseTableName('sales.orders')).toEqual({ schema: 'sales', table: 'orders' });
    expect(() => parseTableName('Orders')).toThrow(/expected <schema>\.<table>/);
    expect(() => parseTableName('a.b.c')).toThrow(/expected <schema>\.<table>/);
  });
});
