"""Peer for `npm run bench`: DuckDB 1.4.4 reads the bench query from Postgres with its
postgres extension and writes one file to the same discard-all S3 endpoint as
everyone else. Extensions load by file path from their PyPI packages.

usage: python duckdb-peer.py <postgres url> <query> <s3 endpoint host:port> <key> parquet-snappy|parquet-zstd|csv-gzip
prints: {"seconds": …, "rows": …}
"""
import json, os, sys, time

import duckdb
import duckdb_ext

url, query, endpoint, key, kind = sys.argv[1:6]
ext_dir = os.path.join(list(duckdb_ext.__path__)[0], 'extensions', 'v' + duckdb.__version__, 'linux_amd64')
fmt = {
    'parquet-snappy': "FORMAT parquet, COMPRESSION snappy",
    'parquet-zstd': "FORMAT parquet, COMPRESSION zstd",
    'csv-gzip': "FORMAT csv, HEADER, COMPRESSION gzip",
}[kind]

t0 = time.monotonic()
con = duckdb.connect()
for name in ('postgres_scanner', 'httpfs'):
    con.execute(f"LOAD '{os.path.join(ext_dir, name + '.duckdb_extension')}'")
con.execute(f"SET s3_endpoint = '{endpoint}'")
con.execute("SET s3_use_ssl = false")
con.execute("SET s3_url_style = 'path'")
con.execute("SET s3_region = 'us-east-1'")
con.execute("SET s3_access_key_id = 'bench'")
con.execute("SET s3_secret_access_key = 'bench'")
con.execute(f"ATTACH '{url}' AS pg (TYPE postgres, READ_ONLY)")
# The same SQL as every path, run by DuckDB's own reader (it splits a table scan over connections by ctid).
table = query.split(' FROM ')[1].split(' ')[0]
where = query.split(' WHERE ')[1].split(' ORDER BY')[0] if ' WHERE ' in query else 'true'
rows = con.execute(f"COPY (SELECT * FROM pg.public.{table} WHERE {where}) TO 's3://bench-bucket/{key}' ({fmt})").fetchone()[0]
print(json.dumps({"seconds": time.monotonic() - t0, "rows": rows}))
