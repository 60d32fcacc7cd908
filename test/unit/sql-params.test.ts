import { describe, it, expect } from 'vitest';
import { MissingPropertyError, ValidationError } from '../../common/errors';
import {
  assertSingleSelect,
  bindNamedParams,
  namedParams,
  rewriteNamedParams,
  trimStatement,
} from '../../common/domain/sql-params';

function validationMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).message;
  }
  throw new Error('expected a ValidationError, but nothing was thrown');
}

describe('namedParams', () => {
  it('lists distinct names in first-appearance order', () => {
    expect(namedParams('SELECT * FROM t WHERE b = :b AND a = :a OR b2 = :b')).toEqual(['b', 'a']);
    expect(namedParams('SELECT 1')).toEqual([]);
  });

  it('skips casts and := assignments', () => {
    expect(namedParams('SELECT x::int, y::"my type", f(a := 1), z ::text FROM t WHERE id = :id::bigint')).toEqual([
      'id',
    ]);
  });

  it('skips string literals, with doubled-quote escapes', () => {
    expect(namedParams("SELECT ':a', 'it''s :b', :c")).toEqual(['c']);
  });

  it('skips E-strings with backslash escapes', () => {
    expect(namedParams("SELECT E'\\' :a', e'x\\\\', :b")).toEqual(['b']);
    // In a standard string a backslash is literal, so the string ends at the second quote.
    expect(namedParams("SELECT '\\', :a")).toEqual(['a']);
  });

  it('skips double-quoted identifiers', () => {
    expect(namedParams('SELECT ":a", "x"":b" FROM t WHERE c = :c')).toEqual(['c']);
  });

  it('skips dollar-quoted strings, tagged or not', () => {
    expect(namedParams('SELECT $$ :a $$, $fn$ :b $$ still inside $fn$, :c')).toEqual(['c']);
    expect(namedParams('SELECT $a$x$a$ || :d')).toEqual(['d']);
  });

  it('treats $ inside identifiers as part of the identifier', () => {
    expect(namedParams('SELECT col$1, a$b$ FROM t WHERE x = :x')).toEqual(['x']);
  });

  it('skips line comments and nested block comments', () => {
    expect(namedParams('SELECT 1 -- :a\n, :b /* :c /* :d */ :e */ , :f')).toEqual(['b', 'f']);
    expect(namedParams('SELECT :a -- trailing :z')).toEqual(['a']);
  });

  it('accepts names next to punctuation', () => {
    expect(namedParams('SELECT * FROM t WHERE id IN (:a,:b) AND x=:c;')).toEqual(['a', 'b', 'c']);
  });

  it('rejects names that cannot be property names', () => {
    expect(validationMessage(() => namedParams(`SELECT :${'a'.repeat(64)}`))).toContain('not a valid property name');
    expect(validationMessage(() => namedParams('SELECT :tenant$id'))).toContain('not a valid property name');
  });

  it('rejects psql-style quoted variables with a hint', () => {
    expect(validationMessage(() => namedParams("SELECT * FROM t WHERE id = :'tenant_id'"))).toContain(
      'write :tenant_id',
    );
    expect(validationMessage(() => namedParams('SELECT * FROM :"table_name"'))).toContain('write :table_name');
  });

  it('rejects unterminated literals and comments, naming the line', () => {
    expect(validationMessage(() => namedParams("SELECT 1,\n'abc"))).toMatch(/line 2: unterminated string literal/);
    expect(validationMessage(() => namedParams('SELECT "abc'))).toContain('unterminated quoted identifier');
    expect(validationMessage(() => namedParams('SELECT $x$ abc $y$'))).toContain('close it with $x$');
    expect(validationMessage(() => namedParams('SELECT /* /* */ 1'))).toContain('unterminated /* comment');
    expect(validationMessage(() => namedParams("SELECT E'abc\\'"))).toContain('unterminated string literal');
  });
});

describe('bindNamedParams', () => {
  it('rewrites names to $k, reusing $k for repeated names', () => {
    const sql = 'SELECT * FROM orders WHERE tenant_id = :tenant_id AND region = :region OR owner = :tenant_id';
    expect(bindNamedParams(sql, { tenant_id: '42', region: 'eu', unused: 'x' }, 'acme')).toEqual({
      text: 'SELECT * FROM orders WHERE tenant_id = $1 AND region = $2 OR owner = $1',
      values: ['42', 'eu'],
      names: ['tenant_id', 'region'],
    });
  });

  it('leaves literals, comments, casts and quoted text untouched', () => {
    const sql = "SELECT ':a' AS s, x::int /* :a */, $$:a$$ -- :a\nFROM t WHERE a = :a::text";
    const out = bindNamedParams(sql, { a: 'v' }, 'acme');
    expect(out.text).toBe("SELECT ':a' AS s, x::int /* :a */, $$:a$$ -- :a\nFROM t WHERE a = $1::text");
    expect(out.values).toEqual(['v']);
  });

  it('returns the SQL unchanged when there are no names', () => {
    expect(bindNamedParams('SELECT 1', {}, 'acme')).toEqual({ text: 'SELECT 1', values: [], names: [] });
  });

  it.each([
    "'; DROP TABLE orders; --",
    "42' OR '1'='1",
    '$$; DELETE FROM t; $$',
    '1); DELETE FROM t; --',
    ':other',
    '$1',
    "E'\\'",
    '/*',
  ])('binds the injection-looking value %j as a value, never as SQL', (evil) => {
    const sql = 'SELECT * FROM orders WHERE tenant_id = :tenant_id AND note = :other';
    const out = bindNamedParams(sql, { tenant_id: evil, other: 'x' }, 'acme');
    expect(out.text).toBe('SELECT * FROM orders WHERE tenant_id = $1 AND note = $2');
    expect(out.values).toEqual([evil, 'x']);
  });

  it('reports every missing property at once, in order', () => {
    try {
      bindNamedParams('SELECT :a, :b, :c, :a, :d', { b: '1' }, 'acme');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(MissingPropertyError);
      const err = e as MissingPropertyError;
      expect(err.missing).toEqual(['a', 'c', 'd']);
      expect(err.message).toContain('profile "acme"');
      expect(err.message).toContain('a=<value> c=<value> d=<value>');
    }
  });

  it('does not take properties from Object.prototype', () => {
    expect(() => bindNamedParams('SELECT :constructor, :toString', {}, 'acme')).toThrow(MissingPropertyError);
    expect(() => bindNamedParams('SELECT :__proto__', {}, 'acme')).toThrow(MissingPropertyError);
  });

  it('rejects positional parameters, with a hint', () => {
    expect(
      validationMessage(() => bindNamedParams('SELECT * FROM t WHERE a = :a AND b = $1', { a: '1' }, 'acme')),
    ).toContain('$1 is a positional parameter');
  });
});

describe('rewriteNamedParams', () => {
  it('passes each name and its distinct index', () => {
    const seen: string[] = [];
    const out = rewriteNamedParams('SELECT :x, :y, :x', (name, index) => {
      seen.push(`${name}@${index}`);
      return `p${index}`;
    });
    expect(out).toBe('SELECT p0, p1, p0');
    expect(seen).toEqual(['x@0', 'y@1', 'x@0']);
  });
});

describe('assertSingleSelect', () => {
  it.each([
    'SELECT 1',
    'select 1;',
    '  -- leading comment\n/* block */ SELECT 1 ; -- done\n /* bye */ ',
    'WITH x AS (SELECT 1) SELECT * FROM x',
    'VALUES (1), (2)',
    'TABLE orders',
    '(SELECT 1) UNION (SELECT 2)',
    'SELECT \';\' AS semi, $$;$$, "a;b" -- ;\n FROM t /* ; */',
    'SELECT 1;;',
    'SeLeCt :tenant_id',
  ])('accepts %j', (sql) => {
    expect(() => assertSingleSelect(sql)).not.toThrow();
  });

  it.each([
    ['', 'empty'],
    ['  -- only a comment\n', 'empty'],
    [';', 'empty'],
    ['SELECT 1; SELECT 2', 'exactly one query'],
    ['SELECT 1; DROP TABLE orders', 'exactly one query'],
    ['; SELECT 1', 'starts with ";"'],
    ['DELETE FROM orders', 'must be a query starting with SELECT'],
    ['INSERT INTO t VALUES (1)', 'must be a query'],
    ['COPY t TO STDOUT', 'must be a query'],
    ['EXPLAIN SELECT 1', 'must be a query'],
    ['"select" 1', 'must be a query'],
    ['SELECTX 1', 'must be a query'],
    ['SELECT * FROM t WHERE id = $1', 'use'],
  ])('rejects %j', (sql, hint) => {
    expect(validationMessage(() => assertSingleSelect(sql))).toContain(hint === 'use' ? 'positional parameter' : hint);
  });

  it('names the line of the second statement', () => {
    expect(validationMessage(() => assertSingleSelect('SELECT 1;\n\nUPDATE t SET a = 1'))).toContain('line 3');
  });
});

describe('trimStatement', () => {
  it('drops the trailing semicolon, comments and whitespace so the query can be wrapped', () => {
    expect(trimStatement('SELECT 1; -- done\n')).toBe('SELECT 1');
    expect(trimStatement('/* head */ SELECT 1 /* tail */ ;')).toBe('/* head */ SELECT 1');
    expect(trimStatement("SELECT ';' -- x")).toBe("SELECT ';'");
    expect(trimStatement('-- nothing')).toBe('');
  });
});
