"""Reads delivered Parquet files with two readers no one here wrote, pyarrow and DuckDB, and compares
every value with the source rows (test/integration/parquet-readers.test.ts writes the input).

usage: python parquet_check.py INPUT.json  → prints one JSON report on stdout

Input: {columns: [{name, kind, list}], expected: [[canonical value text or list or null, ...], ...]
        in key order, files: [local paths in file order], manifest_urls: [s3 urls], s3: {...}, ext_dir}
Values are compared in one canonical form per kind: ints, bools, floats (float32 rounded as stored),
exact Decimals, exact strings, hex for bytea, days since 1970 for dates and microseconds for times
and timestamps (integers: Python's datetime stops at year 9999, Postgres and Parquet do not).
"""
import decimal
import json
import math
import struct
import sys
import uuid

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

INT_KINDS = {'int16', 'int32', 'int64', 'date', 'time', 'timestamp', 'timestamptz'}


def f32(x):
    return struct.unpack('<f', struct.pack('<f', x))[0]


def canon_source(v, kind):
    """Source text (from Postgres, see the test's SQL) → canonical value."""
    if v is None:
        return None
    if kind in INT_KINDS:
        return int(v)
    if kind == 'bool':
        return v == 'true'
    if kind == 'float64':
        return ('f', float(v))
    if kind == 'float32':
        return ('f', f32(float(v)))
    if kind == 'decimal':
        return ('d', decimal.Decimal(v))
    return v  # text, json, jsonb, numeric_text (exact text), bytea (hex), uuid


def canon_read(v, kind):
    """A reader's Python value (after the casts below) → canonical value."""
    if v is None:
        return None
    if kind in INT_KINDS:
        return int(v)
    if kind == 'bool':
        return bool(v)
    if kind in ('float32', 'float64'):
        return ('f', float(v))
    if kind == 'decimal':
        return ('d', decimal.Decimal(v))
    if kind == 'bytea':
        return bytes(v).hex() if not isinstance(v, str) else v.lower()
    if kind == 'uuid':
        if isinstance(v, (bytes, bytearray)):
            return str(uuid.UUID(bytes=bytes(v)))
        return str(v)
    return v if isinstance(v, str) else str(v)


def same(a, b):
    if isinstance(a, tuple) and isinstance(b, tuple) and a[0] == b[0] == 'f':
        return (math.isnan(a[1]) and math.isnan(b[1])) or (a[1] == b[1] and math.copysign(1, a[1]) == math.copysign(1, b[1]))
    return a == b


def canon_cell(v, col, fn):
    if col['list'] and v is not None:
        return [fn(e, col['kind']) for e in v]
    return fn(v, col['kind'])


def pyarrow_rows(path, columns):
    table = pq.read_table(path)
    cols = []
    for c in columns:
        arr = table.column(c['name']).combine_chunks()
        if isinstance(arr.type, pa.ExtensionType):
            arr = arr.storage
        if c['kind'] in ('date',):
            arr = pc.cast(arr, pa.list_(pa.int32()) if c['list'] else pa.int32())
        elif c['kind'] in ('time', 'timestamp', 'timestamptz'):
            arr = pc.cast(arr, pa.list_(pa.int64()) if c['list'] else pa.int64())
        elif c['list'] and isinstance(arr.type.value_type, pa.ExtensionType):
            arr = pa.ListArray.from_arrays(arr.offsets, arr.values.storage, mask=arr.is_null())
        cols.append(arr.to_pylist())
    return [list(r) for r in zip(*cols)] if cols else []


def duck_expr(c):
    k, q = c['kind'], '"' + c['name'].replace('"', '""') + '"'
    one = {
        'timestamp': 'epoch_us({x})',
        'timestamptz': 'epoch_us({x})',
        'time': '(hour({x})::BIGINT * 3600000000 + minute({x})::BIGINT * 60000000 + microsecond({x}))',
        'date': "({x} - DATE '1970-01-01')",
        'uuid': 'CAST({x} AS VARCHAR)',
        'json': 'CAST({x} AS VARCHAR)',
        'jsonb': 'CAST({x} AS VARCHAR)',
        'bytea': 'lower(hex({x}))',
    }.get(k, '{x}')
    if c['list']:
        return 'list_transform(%s, x -> %s)' % (q, one.format(x='x'))
    return one.format(x=q)


def compare(name, got, expected, columns, problems):
    if len(got) != len(expected):
        problems.append(f'{name}: {len(got)} rows, source has {len(expected)}')
    for r, (g, e) in enumerate(zip(got, expected)):
        for i, c in enumerate(columns):
            src = json.loads(e[i]) if c['list'] and isinstance(e[i], str) else e[i]
            a = canon_cell(src, c, canon_source)
            b = canon_cell(g[i], c, canon_read)
            ok = same(a, b) if not isinstance(a, list) or not isinstance(b, list) else len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
            if not ok:
                problems.append(f'{name}: row {r + 1} column {c["name"]}: source {a!r:.200} read {b!r:.200}')
                if len(problems) > 120:
                    return


def logical_text(lt):
    s = str(lt)
    if s == 'None':
        return None
    if s.startswith('Int('):
        bits = s.split('bitWidth=')[1].split(',')[0]
        return f'INT({bits}, {"signed" if "isSigned=true" in s else "unsigned"})'
    if s.startswith('Decimal('):
        p = s.split('precision=')[1].split(',')[0]
        sc = s.split('scale=')[1].rstrip(')').split(',')[0]
        return f'DECIMAL({p},{sc})'
    if s.startswith('Time(') or s.startswith('Timestamp('):
        kind = 'TIME' if s.startswith('Time(') else 'TIMESTAMP'
        unit = 'MICROS' if 'microseconds' in s else s
        utc = 'UTC-adjusted' if 'isAdjustedToUTC=true' in s else 'not UTC-adjusted'
        return f'{kind}({unit}, {utc})'
    return s.upper()


def main():
    inp = json.load(open(sys.argv[1]))
    columns, expected = inp['columns'], inp['expected']
    problems, report = [], {'files': []}

    got = []
    for path in inp['files']:
        pf = pq.ParquetFile(path)
        md = pf.metadata
        leaves = {}
        for i in range(md.num_columns):
            s = pf.schema.column(i)
            leaves[s.path.split('.')[0]] = {'physical': s.physical_type, 'logical': logical_text(s.logical_type)}
        groups = []
        for g in range(md.num_row_groups):
            rg = md.row_group(g)
            cols = {}
            for i in range(md.num_columns):
                cc = rg.column(i)
                st = cc.statistics
                cols[cc.path_in_schema.split('.')[0]] = {
                    'min_max': bool(st is not None and st.has_min_max),
                    'null_count': st.null_count if st is not None and st.has_null_count else None,
                    'dictionary': any('DICTIONARY' in e for e in cc.encodings),
                }
            groups.append({'rows': rg.num_rows, 'columns': cols})
        report['files'].append({'created_by': md.created_by, 'rows': md.num_rows, 'leaves': leaves, 'row_groups': groups})
        got.extend(pyarrow_rows(path, columns))
    compare('pyarrow', got, expected, columns, problems)

    con = duckdb.connect(config={'allow_unsigned_extensions': 'true'})
    con.execute("SET TimeZone = 'UTC'")
    for ext in ('parquet', 'httpfs'):
        con.execute(f"LOAD '{inp['ext_dir']}/{ext}.duckdb_extension'")
    select = ', '.join(duck_expr(c) for c in columns)
    got = []
    for path in inp['files']:
        got.extend([list(r) for r in con.execute(f'SELECT {select} FROM read_parquet(?)', [path]).fetchall()])
    compare('duckdb (each file)', got, expected, columns, problems)

    s3 = inp['s3']
    lit = lambda v: "'" + str(v).replace("'", "''") + "'"
    con.execute(
        f"CREATE SECRET moto (TYPE s3, KEY_ID {lit(s3['key_id'])}, SECRET {lit(s3['secret'])}, SESSION_TOKEN {lit(s3['session_token'])}, "
        f"REGION {lit(s3['region'])}, ENDPOINT {lit(s3['endpoint'])}, URL_STYLE 'path', USE_SSL false)"
    )
    order = ', '.join('"' + k.replace('"', '""') + '"' for k in inp['key'])
    urls = inp['manifest_urls']
    got = [list(r) for r in con.execute(f'SELECT {select} FROM read_parquet(?) ORDER BY {order}', [urls]).fetchall()]
    compare('duckdb (s3, the manifest\'s files)', got, expected, columns, problems)
    report['duckdb_types'] = [list(r[:2]) for r in con.execute('DESCRIBE SELECT * FROM read_parquet(?)', [urls[:1]]).fetchall()]

    report['problems'] = problems
    print(json.dumps(report))


main()
