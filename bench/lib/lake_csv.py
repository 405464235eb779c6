#!/usr/bin/env python3
"""Writes one lake table as CSV with a header to standard output, read straight from its
folders by the pinned libduckdb.so that fleetlog links (the loader of the queries section's
PostgreSQL copy: DuckDB's CSV writer is many times faster than formatting the rows through
`fleetlog query --format csv`, and loading is not what the section measures).

    lake_csv.py LIBDUCKDB LAKE TABLE COLUMNS      (COLUMNS: the quoted names, comma-separated)

The bench checks afterwards that PostgreSQL holds as many rows as fleetlog's view of each table."""
import sys

from duckdb_direct import DuckDB


def main():
    library, lake, table, columns = sys.argv[1:5]
    glob = f"{lake}/{table}/*/*/*.parquet".replace("'", "''")
    DuckDB(library).run(
        f"COPY (SELECT {columns} FROM read_parquet('{glob}', hive_partitioning = true, union_by_name = true, "
        f"hive_types = {{'cluster': VARCHAR, 'dt': DATE}})) TO '/dev/stdout' (FORMAT csv, HEADER)")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 - one message for the bench log
        print(f"lake_csv: {e}", file=sys.stderr)
        sys.exit(1)
