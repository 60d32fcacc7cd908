/**
 * Dataset SQL names profile properties as `:name`. They become `$1..$n` bind
 * parameters, so a property value is never part of the SQL text and cannot change
 * what the query does, whatever it contains.
 *
 * Finding `:name` needs a tokenizer rather than a regex: the same characters inside
 * a string literal, a quoted identifier, a comment or a `::` cast are not parameters,
 * and a ';' inside them does not end a statement. The rules follow Postgres's lexer
 * (scan.l) with standard_conforming_strings on, the default since 9.1.
 *
 * Known ambiguity, shared with psql: an array slice written `arr[lo:hi]` reads as
 * parameter `:hi`; write `arr[lo : hi]` instead.
 */
import { MissingPropertyError, ValidationError } from '../errors';
import { PROPERTY_NAME } from './ids';
import { quoteValue } from './quoting';

type TokenKind =
  | 'word' // unquoted identifier or keyword
  | 'param' // :name
  | 'positional' // $1
  | 'semicolon'
  | 'open-paren'
  | 'other'; // literals, quoted identifiers, operators, numbers

interface Token {
  kind: TokenKind;
  start: number;
  end: number;
  /** For 'param', the property name; for 'word', the text. */
  text: string;
}

// Postgres treats every non-ASCII character as a letter in identifiers.
const IDENT_START = /[A-Za-z_\u0080-\uffff]/;
const IDENT_CONT = /[A-Za-z0-9_$\u0080-\uffff]/;
const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;
const PSQL_QUOTED_VAR = /:(['"])([A-Za-z_][A-Za-z0-9_]*)\1/y;

function sqlError(sql: string, at: number, problem: string): never {
  const line = sql.slice(0, at).split('\n').length;
  throw new ValidationError(`dataset SQL, line ${line}: ${problem}`);
}

/** Index just past a quoted run that opened at `open` (the opening quote character). */
function skipQuoted(sql: string, open: number, quote: string, backslashEscapes: boolean): number {
  let i = open + 1;
  while (i < sql.length) {
    const c = sql[i];
    if (backslashEscapes && c === '\\') {
      i += 2;
    } else if (c === quote) {
      if (sql[i + 1] === quote)
        i += 2; // doubled quote is an escaped quote
      else return i + 1;
    } else {
      i++;
    }
  }
  const what = quote === '"' ? 'quoted identifier' : 'string literal';
  return sqlError(
    sql,
    open,
    `unterminated ${what} starting ${quoteValue(sql.slice(open, open + 30))}; close it with ${quote}`,
  );
}

function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  const push = (kind: TokenKind, start: number, end: number, text = sql.slice(start, end)): void => {
    tokens.push({ kind, start, end, text });
  };
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    const next = sql[i + 1];

    if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && next === '-') {
      const nl = sql.indexOf('\n', i);
      i = nl === -1 ? sql.length : nl + 1;
    } else if (c === '/' && next === '*') {
      // Postgres block comments nest, unlike the SQL standard's.
      const open = i;
      let depth = 1;
      i += 2;
      while (i < sql.length && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
        } else {
          i++;
        }
      }
      if (depth > 0) sqlError(sql, open, 'unterminated /* comment; close it with */');
    } else if (c === "'") {
      const end = skipQuoted(sql, i, "'", false);
      push('other', i, end);
      i = end;
    } else if (c === '"') {
      const end = skipQuoted(sql, i, '"', false);
      push('other', i, end);
      i = end;
    } else if (IDENT_START.test(c)) {
      let j = i + 1;
      while (j < sql.length && IDENT_CONT.test(sql[j])) j++;
      if (j === i + 1 && (c === 'E' || c === 'e') && sql[j] === "'") {
        const end = skipQuoted(sql, j, "'", true);
        push('other', i, end);
        i = end;
      } else {
        push('word', i, j);
        i = j;
      }
    } else if (/[0-9]/.test(c) || (c === '.' && next !== undefined && /[0-9]/.test(next))) {
      // Numbers only matter in that they are not identifiers: `1e5` is not a word.
      let j = i + 1;
      while (j < sql.length && /[0-9A-Za-z_.]/.test(sql[j])) j++;
      push('other', i, j);
      i = j;
    } else if (c === '$') {
      if (next !== undefined && /[0-9]/.test(next)) {
        let j = i + 1;
        while (j < sql.length && /[0-9]/.test(sql[j])) j++;
        push('positional', i, j);
        i = j;
      } else {
        DOLLAR_TAG.lastIndex = i;
        const m = DOLLAR_TAG.exec(sql);
        if (m === null) {
          push('other', i, i + 1);
          i++;
        } else {
          const tag = m[0];
          const close = sql.indexOf(tag, i + tag.length);
          if (close === -1) sqlError(sql, i, `unterminated dollar-quoted string; close it with ${tag}`);
          push('other', i, close + tag.length);
          i = close + tag.length;
        }
      }
    } else if (c === ':') {
      if (next === ':' || next === '=') {
        // `::type` cast and `:=` named-argument assignment.
        push('other', i, i + 2);
        i += 2;
      } else if (next !== undefined && IDENT_START.test(next)) {
        let j = i + 2;
        while (j < sql.length && IDENT_CONT.test(sql[j])) j++;
        const name = sql.slice(i + 1, j);
        if (!PROPERTY_NAME.test(name)) {
          sqlError(
            sql,
            i,
            `parameter ${quoteValue(`:${name}`)} is not a valid property name; property names are 1–63 letters, digits and "_", not starting with a digit`,
          );
        }
        push('param', i, j, name);
        i = j;
      } else {
        PSQL_QUOTED_VAR.lastIndex = i;
        const m = PSQL_QUOTED_VAR.exec(sql);
        if (m !== null) {
          sqlError(
            sql,
            i,
            `${quoteValue(m[0])} is psql quoting; write :${m[2]} without quotes: values are bound as query parameters, so they need no quoting`,
          );
        }
        push('other', i, i + 1);
        i++;
      }
    } else if (c === ';') {
      push('semicolon', i, i + 1);
      i++;
    } else if (c === '(') {
      push('open-paren', i, i + 1);
      i++;
    } else {
      push('other', i, i + 1);
      i++;
    }
  }
  return tokens;
}

function rejectPositional(sql: string, tokens: readonly Token[]): void {
  const positional = tokens.find((t) => t.kind === 'positional');
  if (positional !== undefined) {
    sqlError(
      sql,
      positional.start,
      `${positional.text} is a positional parameter; name a profile property instead, e.g. :tenant_id, and it will be bound as a parameter`,
    );
  }
}

/** Distinct property names used as `:name`, in order of first appearance. */
export function namedParams(sql: string): string[] {
  return distinctParams(tokenize(sql));
}

function distinctParams(tokens: readonly Token[]): string[] {
  const names: string[] = [];
  for (const t of tokens) {
    if (t.kind === 'param' && !names.includes(t.text)) names.push(t.text);
  }
  return names;
}

/**
 * Replace each `:name` with `replace(name, index)`, where `index` is the name's
 * 0-based position among the distinct names (the same name, the same index).
 * The replacement must be SQL the caller controls, never a property value.
 */
export function rewriteNamedParams(sql: string, replace: (name: string, index: number) => string): string {
  const tokens = tokenize(sql);
  // Mixed styles would let the author's $k collide with ours.
  rejectPositional(sql, tokens);
  const names = distinctParams(tokens);
  let text = '';
  let last = 0;
  for (const t of tokens) {
    if (t.kind !== 'param') continue;
    text += sql.slice(last, t.start) + replace(t.text, names.indexOf(t.text));
    last = t.end;
  }
  return text + sql.slice(last);
}

/**
 * Rewrite `:name` to `$k` (the same name always the same `$k`) and return the
 * values to bind, in `$k` order. Every missing property is reported at once, so
 * an operator fixes a profile in one go.
 */
export function bindNamedParams(
  sql: string,
  props: Readonly<Record<string, string>>,
  profileId: string,
): { text: string; values: string[]; names: string[] } {
  const names = requireProperties(sql, props, profileId);
  const text = rewriteNamedParams(sql, (_name, index) => `$${index + 1}`);
  return { text, values: names.map((n) => props[n]), names };
}

/**
 * The properties the SQL names, after checking the profile has every one of them
 * (all missing ones reported at once, so an operator fixes a profile in one go).
 */
export function requireProperties(sql: string, props: Readonly<Record<string, string>>, profileId: string): string[] {
  const names = namedParams(sql);
  // Own properties only: `:constructor` must not bind Object.prototype.constructor.
  const missing = names.filter((n) => !Object.prototype.hasOwnProperty.call(props, n));
  if (missing.length > 0) throw new MissingPropertyError(missing, profileId);
  return names;
}

const QUERY_KEYWORDS = new Set(['select', 'with', 'values', 'table']);

/**
 * A shape check that catches a pasted script or a DDL/DML statement early, with a
 * clear message. It is not the safety boundary: `WITH x AS (DELETE …) SELECT …` and
 * `SELECT … INTO` pass it, so the export must also run in a READ ONLY transaction.
 * A leading '(' is allowed, as in `(SELECT …) UNION (SELECT …)`.
 */
export function assertSingleSelect(sql: string): void {
  const tokens = tokenize(sql);
  const statements: Token[][] = [[]];
  for (const t of tokens) {
    if (t.kind === 'semicolon') statements.push([]);
    else statements[statements.length - 1].push(t);
  }
  const nonEmpty = statements.filter((s) => s.length > 0);
  if (nonEmpty.length === 0)
    throw new ValidationError('dataset SQL is empty: give one SELECT (or WITH / VALUES / TABLE) query');
  if (nonEmpty.length > 1) {
    sqlError(
      sql,
      nonEmpty[1][0].start,
      'dataset SQL must be exactly one query; remove the other statements (only a trailing ";" is allowed)',
    );
  }
  if (statements[0].length === 0) {
    sqlError(sql, 0, 'dataset SQL starts with ";"; remove it (only a trailing ";" is allowed)');
  }
  const first = nonEmpty[0].find((t) => t.kind !== 'open-paren');
  if (first === undefined || first.kind !== 'word' || !QUERY_KEYWORDS.has(first.text.toLowerCase())) {
    const at = first ?? nonEmpty[0][0];
    sqlError(
      sql,
      at.start,
      `dataset SQL must be a query starting with SELECT, WITH, VALUES or TABLE, not ${quoteValue(sql.slice(at.start, at.start + 30))}`,
    );
  }
  rejectPositional(sql, tokens);
}

/**
 * The statement without its trailing ';', comments and whitespace, so it can be
 * wrapped, e.g. `COPY (<query>) TO STDOUT`: a trailing ';' or `-- comment` inside
 * the parentheses would break (or comment out) the wrapper.
 */
export function trimStatement(sql: string): string {
  const tokens = tokenize(sql).filter((t) => t.kind !== 'semicolon');
  if (tokens.length === 0) return '';
  return sql.slice(0, tokens[tokens.length - 1].end);
}
