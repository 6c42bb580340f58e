"""Reads every file listed in <dir>/expected.json with pyarrow (Arrow C++'s reader) and with
Polars, and checks that each sees what the C++ writer says it wrote: column names, each reader's
types (DECIMAL(p, s) as decimal128(p, s) / Decimal(p, s), timestamps with their unit and UTC;
pyarrow's nullability), row counts, per-column null and value counts, exact sums, min/max, distinct
strings and byte totals, true counts and a sample of full rows, computed by each reader, and
the key-value metadata both readers decode. The footer as pyarrow decodes it: the Parquet
physical, converted and logical type of every column (isAdjustedToUTC, unit, precision, scale),
created_by, format version, row and row group counts, and per column chunk the codec, the
dictionary encoding, and statistics (null counts, value counts, min/max) that bound the column
exactly. verify.mjs does the same with DuckDB and parquet-wasm.

A file that a reader refuses is a failure naming the file and the reader. Exits 1 listing every
failure, 0 when every check passed.

Usage: build/venv/bin/python verify.py <dir> [file ...]
  (only the named files of expected.json; all of them by default)
"""
import json
import os
import sys

from parquet_readers import READERS, Checks, compare_summary, footer, footer_bounds


def expected_summary(col):
    """A column of expected.json as the summary a reader must produce (raw values)."""
    want = {"nulls": col["nulls"], "count": col["count"]}
    if col["type"] == "string":
        want.update(bytes=col["bytes"], distinct=col["distinct"])
        if col["count"]:
            want.update(min=col["min"], max=col["max"])
    elif col["type"] == "boolean":
        want["true_count"] = col["true_count"]
    else:
        want["sum"] = int(col["sum"])
        if col["count"]:
            want.update(min=int(col["min"]), max=int(col["max"]))
    return want


def expected_value(col, v):
    """A sample value of expected.json (numbers as strings of the raw integer) as a raw value."""
    return v if v is None or col["type"] in ("string", "boolean") else int(v)


def check_reader(checks, reader, entry, path):
    label = f"{entry['file']} {reader.name}"
    columns = entry["columns"]
    reader.check_schema(checks, label, columns, path)
    checks.eq(reader.key_value(path), entry["kv"], f"{label} key-value metadata")
    table = reader.read(path)
    checks.eq(reader.rows(table), entry["rows"], f"{label} rows")
    summaries = reader.summaries(columns, table)
    for col in columns:
        compare_summary(checks, f"{label} {col['name']}", summaries[col["name"]], expected_summary(col))
    rows = reader.rows_at(columns, table, [s["row"] for s in entry["samples"]])
    for sample in entry["samples"]:
        got = rows.get(sample["row"])
        if got is None:
            checks.fail(f"{label} sample row {sample['row']}: missing")
            continue
        for c, col in enumerate(columns):
            checks.eq(got[c], expected_value(col, sample["values"][c]), f"{label} row {sample['row']} {col['name']}")


def check_footer(checks, created_by, entry, path):
    def what(k):
        return f"{entry['file']} pyarrow footer {k}"

    metadata, columns = footer(path)
    checks.eq(metadata.created_by, created_by, what("created_by"))
    checks.eq(metadata.format_version, "1.0", what("format_version"))
    checks.eq(metadata.num_rows, entry["rows"], what("num_rows"))
    checks.eq(metadata.num_row_groups, entry["row_groups"], what("num_row_groups"))
    checks.eq(sum(metadata.row_group(g).num_rows for g in range(metadata.num_row_groups)), entry["rows"],
              what("rows of the row groups"))
    if entry["rows"] == 0:
        return
    codec = entry["codec"].upper()
    for col in entry["columns"]:
        name = col["name"]
        f = columns.get(name)
        if f is None:
            checks.fail(what(f"{name}: no column chunks"))
            continue
        chunks = f["chunks"]
        checks.eq(chunks, entry["row_groups"], what(f"{name} chunks"))
        checks.eq(f["codecs"], {codec}, what(f"{name} compression"))
        checks.eq(f["stats_chunks"], chunks, what(f"{name} chunks with statistics"))
        checks.eq(f["null_count"], col["nulls"], what(f"{name} stats null_count"))
        checks.eq(f["values"], col["count"], what(f"{name} stats num_values"))
        checks.eq(f["dictionary_pages"], f["dictionary_chunks"], what(f"{name} dictionary pages"))
        if not col["dictionary"]:
            checks.eq(f["dictionary_chunks"], 0, what(f"{name} dictionary chunks"))
        elif entry["schema"] != "mixed":
            checks.eq(f["dictionary_chunks"], chunks, what(f"{name} dictionary chunks"))
        else:
            checks.true(0 < f["dictionary_chunks"] < chunks,
                        what(f"{name}: {f['dictionary_chunks']} of {chunks} chunks dictionary-encoded, "
                             "want some to have fallen back to PLAIN"))
        # Chunk statistics, folded over the row groups, must bound the column exactly.
        if col["count"] == 0:
            checks.eq(f["min_max_chunks"], 0, what(f"{name} no min/max for an all-null column"))
            continue
        lo, hi = footer_bounds(col, expected_summary(col))
        checks.eq(f["min"], lo, what(f"{name} stats min"))
        checks.eq(f["max"], hi, what(f"{name} stats max"))


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    directory, only = argv[1], set(argv[2:])
    with open(os.path.join(directory, "expected.json"), encoding="utf-8") as f:
        expected = json.load(f)
    checks = Checks()
    listed = {e["file"] for e in expected["files"]}
    for name in sorted(only - listed):
        checks.fail(f"{name} is not in expected.json")
    entries = [e for e in expected["files"] if not only or e["file"] in only]
    for entry in entries:
        path = os.path.join(directory, entry["file"])
        before, start = len(checks.failures), checks.count
        for reader in READERS:
            with checks.reading(entry["file"], reader.name):
                check_reader(checks, reader, entry, path)
        with checks.reading(entry["file"], "pyarrow (footer)"):
            check_footer(checks, expected["created_by"], entry, path)
        status = "ok  " if len(checks.failures) == before else "FAIL"
        print(f"{status} {entry['file']:<34} {entry['rows']:>6} rows {entry['row_groups']:>2} row groups "
              f"{checks.count - start} checks")
    print(f"parquet interop: {len(entries)} files read back by {' and '.join(r.title for r in READERS)}")
    return checks.report()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
