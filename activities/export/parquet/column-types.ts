import type { PoolClient } from 'pg';
import type { PgType } from './type-mapping';

/** A result column as Postgres describes it: its name, type oid and modifier. */
export interface ResultField {
  name: string;
  dataTypeID: number;
  dataTypeModifier: number;
}

interface TypeRow {
  i: number;
  oid: number;
  typmod: number;
  name: string;
  typtype: string;
  elem: number;
}

/**
 * Each type with its domains resolved to the base type (a domain's typmod is its base's
 * modifier), from pg_type: what the type mapping decides on.
 */
async function resolve(client: PoolClient, types: { oid: number; typmod: number }[]): Promise<TypeRow[]> {
  const { rows } = await client.query<TypeRow>({
    text: `WITH RECURSIVE base(i, oid, typmod, depth) AS (
             SELECT u.i::int, u.oid, u.typmod, 0 FROM unnest($1::oid[], $2::int[]) WITH ORDINALITY AS u(oid, typmod, i)
             UNION ALL
             SELECT b.i, t.typbasetype, CASE WHEN t.typtypmod <> -1 THEN t.typtypmod ELSE b.typmod END, b.depth + 1
             FROM base b JOIN pg_type t ON t.oid = b.oid AND t.typtype = 'd')
           SELECT DISTINCT ON (b.i) b.i, b.oid::int AS oid, b.typmod, t.typname::text AS name, t.typtype::text AS typtype,
                  CASE WHEN t.typcategory = 'A' THEN t.typelem::int ELSE 0 END AS elem
           FROM base b JOIN pg_type t ON t.oid = b.oid
           ORDER BY b.i, b.depth DESC`,
    values: [types.map((t) => t.oid), types.map((t) => t.typmod)],
  });
  return rows.sort((a, b) => a.i - b.i);
}

/** The resolved Postgres type of every field, arrays with their element's (an array's typmod is its element's). */
export async function resolveTypes(client: PoolClient, fields: ResultField[]): Promise<PgType[]> {
  const top = await resolve(
    client,
    fields.map((f) => ({ oid: f.dataTypeID, typmod: f.dataTypeModifier })),
  );
  const arrays = top.filter((t) => t.elem !== 0);
  const elems = arrays.length
    ? await resolve(
        client,
        arrays.map((t) => ({ oid: t.elem, typmod: t.typmod })),
      )
    : [];
  const elemOf = new Map(arrays.map((t, k) => [t.i, elems[k]]));
  return top.map((t) => {
    const e = elemOf.get(t.i);
    const type: PgType = { oid: t.oid, typmod: t.typmod, name: t.name, typtype: t.typtype };
    return e ? { ...type, element: { oid: e.oid, typmod: e.typmod, name: e.name, typtype: e.typtype } } : type;
  });
}
