"""An independent Parquet reader for the archive tests: pyarrow (Apache Arrow's C++ reader), nothing of ours.

Reads every file given on the command line and prints ONE JSON object on stdout:
  {"files": [{"path": ..., "rows": n, "schema": [{"name", "type", "tz", "unit", "nullable"}...],
              "parquet": [{"name", "physical", "logical", "compression"}...]}],
   "rows": [[ts_ms, site, equipment, device, rack, field, value, is_flag, quality, kafka_partition, kafka_offset], ...]}

`type` is Arrow's name of the column type as read (e.g. "timestamp[us, tz=UTC]", "double"); `ts_ms` is the
timestamp as integer milliseconds since the epoch (UTC). With --no-rows only the file summaries are printed.

Usage: python read_parquet.py [--no-rows] FILE.parquet...
"""

import json
import sys

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq


def column_schema(field):
    t = field.type
    return {
        "name": field.name,
        "type": str(t),
        "tz": getattr(t, "tz", None),
        "unit": getattr(t, "unit", None),
        "nullable": field.nullable,
    }


def parquet_columns(meta):
    out = []
    schema = meta.schema
    for i in range(len(schema)):
        col = schema.column(i)
        compression = meta.row_group(0).column(i).compression if meta.num_row_groups > 0 else None
        out.append(
            {
                "name": col.name,
                "physical": col.physical_type,
                "logical": str(col.logical_type),
                "compression": compression,
            }
        )
    return out


def main(argv):
    with_rows = True
    paths = []
    for arg in argv:
        if arg == "--no-rows":
            with_rows = False
        else:
            paths.append(arg)
    files = []
    rows = []
    for path in paths:
        pf = pq.ParquetFile(path)
        table = pf.read()
        files.append(
            {
                "path": path,
                "rows": table.num_rows,
                "schema": [column_schema(f) for f in table.schema],
                "parquet": parquet_columns(pf.metadata),
            }
        )
        if not with_rows:
            continue
        ts = table.column("ts")
        # Integer milliseconds whatever the stored unit, so the comparison with the records is exact.
        ts_ms = pc.cast(pc.cast(ts, pa.timestamp("ms", tz="UTC")), pa.int64()).to_pylist()
        cols = [
            table.column(name).to_pylist()
            for name in (
                "site",
                "equipment",
                "device",
                "rack",
                "field",
                "value",
                "is_flag",
                "quality",
                "kafka_partition",
                "kafka_offset",
            )
        ]
        for i, t in enumerate(ts_ms):
            rows.append([t] + [c[i] for c in cols])
    json.dump({"files": files, "rows": rows}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
