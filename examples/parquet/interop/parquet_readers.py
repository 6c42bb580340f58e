"""Reading Parquet files back with pyarrow (Arrow C++'s reader) and with Polars, for the Python
verifiers: verify.py next to this file (the writer's interop files) and
examples/tick_pipeline/interop/parquet_sink_verify.py (the tick sink's files).

What is here: a recorder of checks and failures, in which an exception a reader raises becomes
a failure naming the file and the reader; the exact conversion of a Decimal to its unscaled
integer; for a column, the types each reader must report; each reader's view of a file as exact
numbers; the footer as pyarrow decodes it, folded over the row groups.

A column is described the way the interop writer's expected.json describes it: a dict with
"name", "type" (int64 | timestamp | decimal | string | boolean), "unit" (millis | micros |
nanos, for timestamps), "precision" and "scale" (for decimals) and "optional". A raw value is
what the writer stored: an int for int64, for a timestamp (a count of the column's unit) and for
a decimal (unscaled, at the column's scale); a str; a bool; None for null. Sums, minima and
maxima are computed by each reader in exact arithmetic (Arrow's 128-bit decimals, Polars' Int128
and Decimal) and compared as Python ints or strs, never as floats.

Run with the interpreter of the environment scripts/setup.sh builds (build/venv/bin/python).
"""
import contextlib
import json
import sys
from decimal import Decimal

try:
    import polars as pl
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
except ImportError as e:
    sys.exit(f"{e}: the Parquet read-back needs pyarrow and Polars, which scripts/setup.sh installs "
             "in build/venv (run this with build/venv/bin/python)")


class Checks:
    """Counts checks and keeps every failure as a line of text."""

    def __init__(self):
        self.count = 0
        self.failures = []

    def fail(self, what):
        self.count += 1
        self.failures.append(what)

    def true(self, ok, what):
        self.count += 1
        if not ok:
            self.failures.append(what)

    def eq(self, actual, want, what):
        # The types must agree too: in Python True == 1 and Decimal("1") == 1, and a reader that
        # hands back a bool for an integer, or a float anywhere, has not read what was written.
        self.count += 1
        if type(actual) is not type(want) or actual != want:
            self.failures.append(f"{what}: got {actual!r}, want {want!r}")

    @contextlib.contextmanager
    def reading(self, file, reader):
        """Runs a block that reads `file` with `reader`. An exception raised in it (the reader
        refusing the file, or a value of a type the checks cannot take) is recorded as a failure
        of that file with that reader, and the rest of the block is skipped; the caller goes on
        with the next reader or file."""
        self.count += 1
        try:
            yield
        except Exception as e:  # noqa: BLE001 - whatever a reader raises on a bad file is a failure
            lines = str(e).strip().splitlines()
            self.failures.append(f"{file} {reader} raised {type(e).__name__}: {lines[0] if lines else ''}")

    def report(self, out=sys.stdout, limit=200):
        """Prints the failures and the totals; returns the exit status (0 only if something was
        checked and nothing failed)."""
        if self.count == 0:
            self.fail("nothing was checked")
        for f in self.failures[:limit]:
            print(f"  failed: {f}", file=out)
        if len(self.failures) > limit:
            print(f"  ... and {len(self.failures) - limit} more", file=out)
        print(f"{self.count - len(self.failures)} passed, {len(self.failures)} failed", file=out)
        return 1 if self.failures else 0


def unscaled(value, scale):
    """The integer n with value == n / 10**scale, exactly. A Decimal with more fractional digits
    than `scale` (or not finite) is a ValueError: it was not stored at that scale."""
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):
        raise ValueError(f"{value} is not a finite decimal")
    magnitude = int("".join(map(str, digits)))
    shift = exponent + scale
    if shift >= 0:
        magnitude *= 10**shift
    else:
        magnitude, rest = divmod(magnitude, 10**-shift)
        if rest:
            raise ValueError(f"{value} has more than {scale} fractional digits")
    return -magnitude if sign else magnitude


def _raw_number(col, v):
    """A reader's int, or Decimal for a decimal column, as the raw value (None stays None)."""
    if v is None or col["type"] != "decimal":
        return v
    if not isinstance(v, Decimal):
        raise TypeError(f"{col['name']}: a decimal column gave {type(v).__name__} {v!r}")
    return unscaled(v, col["scale"])


def _raw_total(col, v):
    """A reader's exact sum of a number column (an int, or a Decimal at the column's scale;
    None when there was nothing to sum) as the raw total."""
    if v is None:
        return 0
    if isinstance(v, Decimal):
        return unscaled(v, col["scale"] if col["type"] == "decimal" else 0)
    if type(v) is not int:
        raise TypeError(f"{col['name']}: the sum is {type(v).__name__} {v!r}, not exact")
    return v


# ---- what each reader must report -----------------------------------------------------------
_ARROW_UNITS = {"millis": "ms", "micros": "us", "nanos": "ns"}
_PARQUET_UNITS = {"millis": "milliseconds", "micros": "microseconds", "nanos": "nanoseconds"}
_CONVERTED_TIMESTAMPS = {"millis": "TIMESTAMP_MILLIS", "micros": "TIMESTAMP_MICROS", "nanos": "NONE"}


def arrow_type(col):
    kind = col["type"]
    if kind == "timestamp":
        return pa.timestamp(_ARROW_UNITS[col["unit"]], tz="UTC")
    if kind == "decimal":
        return pa.decimal128(col["precision"], col["scale"])
    return {"int64": pa.int64(), "string": pa.string(), "boolean": pa.bool_()}[kind]


def polars_type(col):
    kind = col["type"]
    if kind == "timestamp":
        return pl.Datetime(_ARROW_UNITS[col["unit"]], "UTC")
    if kind == "decimal":
        return pl.Decimal(col["precision"], col["scale"])
    return {"int64": pl.Int64, "string": pl.String, "boolean": pl.Boolean}[kind]


def parquet_column_type(col):
    """The footer's description of the column as pyarrow's ColumnSchema gives it: physical type,
    converted (legacy) type, and the logical type's fields that matter (as in to_json())."""
    kind = col["type"]
    if kind == "timestamp":
        logical = {"Type": "Timestamp", "isAdjustedToUTC": True, "timeUnit": _PARQUET_UNITS[col["unit"]]}
        return "INT64", _CONVERTED_TIMESTAMPS[col["unit"]], logical
    if kind == "decimal":
        return "INT64", "DECIMAL", {"Type": "Decimal", "precision": col["precision"], "scale": col["scale"]}
    if kind == "string":
        return "BYTE_ARRAY", "UTF8", {"Type": "String"}
    return ("BOOLEAN" if kind == "boolean" else "INT64"), "NONE", {"Type": "None"}


# ---- the readers ----------------------------------------------------------------------------
class _Reader:
    """What both readers offer, on their own table type (pa.Table, pl.DataFrame); `name` labels
    failures, `product` and `title` (with the version) the reports. A reader defines
      read(path)                         the whole file
      concat(tables)                     one table of several files' rows
      check_schema(checks, label, columns, path)
      key_value(path)                    the footer's key-value metadata as {str: str}
      rows(table)
      summaries(columns, table)          {name: summary}; a summary has "nulls" and "count",
                                         then "sum", "min", "max" (raw ints) for numbers,
                                         "bytes", "distinct", "min", "max" (strs) for strings,
                                         "true_count" for booleans; min and max are None
                                         without values
    and, for the rows below, _values(col, table) (a column as a list, timestamps as the integer
    count of their unit), _take(table, positions) and _where_in(table, name, values)."""

    def _raw_rows(self, columns, table):
        values = [[_raw_number(col, v) for v in self._values(col, table)] for col in columns]
        return [list(row) for row in zip(*values)]

    def rows_at(self, columns, table, positions):
        """{position: [raw value per column]} for the positions below rows(table)."""
        positions = sorted(p for p in set(positions) if p < self.rows(table))
        return dict(zip(positions, self._raw_rows(columns, self._take(table, positions))))

    def rows_where(self, columns, table, name, values):
        """[{column: raw value}] of the rows whose int64 column `name` holds one of `values`."""
        names = [col["name"] for col in columns]
        return [dict(zip(names, row)) for row in self._raw_rows(columns, self._where_in(table, name, values))]


class PyArrowReader(_Reader):
    name = "pyarrow"
    product = "pyarrow"
    title = f"pyarrow {pa.__version__}"

    def read(self, path):
        with pq.ParquetFile(path) as f:
            table = f.read()
        # Arrow C++'s full validation of what it decoded: offsets, lengths, UTF-8 of strings.
        table.validate(full=True)
        return table

    def concat(self, tables):
        return pa.concat_tables(tables)

    def check_schema(self, checks, label, columns, path):
        with pq.ParquetFile(path) as f:
            arrow, parquet = f.schema_arrow, f.schema
        checks.eq(arrow.names, [c["name"] for c in columns], f"{label} column names")
        for i, col in enumerate(columns[: len(arrow.names)]):
            what = f"{label} {col['name']}"
            field = arrow.field(i)
            checks.eq(str(field.type), str(arrow_type(col)), f"{what} type")
            checks.eq(field.nullable, col["optional"], f"{what} nullable")
            physical, converted, logical = parquet_column_type(col)
            column = parquet.column(i)
            checks.eq(column.physical_type, physical, f"{what} Parquet physical type")
            checks.eq(column.converted_type, converted, f"{what} Parquet converted type")
            declared = json.loads(column.logical_type.to_json())
            checks.eq({k: declared.get(k) for k in logical}, logical, f"{what} Parquet logical type")
            checks.eq(column.max_definition_level, 1 if col["optional"] else 0, f"{what} definition level")

    def key_value(self, path):
        pairs = pq.read_metadata(path).metadata or {}
        return {k.decode("utf-8"): v.decode("utf-8") for k, v in pairs.items()}

    def rows(self, table):
        return table.num_rows

    @staticmethod
    def _numbers(col, array):
        # Timestamps as the integer count of their unit; int64 and decimals as they are.
        return array.cast(pa.int64()) if col["type"] == "timestamp" else array

    def _values(self, col, table):
        return self._numbers(col, table.column(col["name"])).to_pylist()

    def _take(self, table, positions):
        return table.take(pa.array(positions, pa.int64()))

    def _where_in(self, table, name, values):
        return table.filter(pc.is_in(table.column(name), value_set=pa.array(values, pa.int64())))

    def summaries(self, columns, table):
        out = {}
        for col in columns:
            array = table.column(col["name"])
            s = {"nulls": array.null_count, "count": len(array) - array.null_count}
            if col["type"] == "boolean":
                s["true_count"] = _raw_total(col, pc.sum(array).as_py())
            elif col["type"] == "string":
                extremes = pc.min_max(array).as_py()
                s["bytes"] = _raw_total(col, pc.sum(pc.binary_length(array)).as_py())
                s["distinct"] = pc.count_distinct(array, mode="only_valid").as_py()
                s["min"], s["max"] = extremes["min"], extremes["max"]
            else:
                numbers = self._numbers(col, array)
                extremes = pc.min_max(numbers).as_py()
                # Arrow sums int64 in int64, wrapping silently; as a 128-bit decimal it is exact.
                exact = numbers if col["type"] == "decimal" else numbers.cast(pa.decimal128(38, 0))
                s["sum"] = _raw_total(col, pc.sum(exact).as_py())
                s["min"], s["max"] = _raw_number(col, extremes["min"]), _raw_number(col, extremes["max"])
            out[col["name"]] = s
        return out


class PolarsReader(_Reader):
    name = "polars"
    product = "Polars"
    title = f"Polars {pl.__version__}"

    def read(self, path):
        # A path of the tick sink looks like a Hive partition (symbol=.../date=...); the columns
        # must come from the file, not from its directory names.
        return pl.read_parquet(path, hive_partitioning=False)

    def concat(self, tables):
        return pl.concat(tables)

    def check_schema(self, checks, label, columns, path):
        schema = pl.read_parquet_schema(path)
        checks.eq(list(schema.keys()), [c["name"] for c in columns], f"{label} column names")
        for col in columns:
            if col["name"] in schema:
                checks.eq(str(schema[col["name"]]), str(polars_type(col)), f"{label} {col['name']} type")

    def key_value(self, path):
        return dict(pl.read_parquet_metadata(path))

    def rows(self, table):
        return table.height

    @staticmethod
    def _numbers(col, c):
        # Datetimes as the integer count of their unit; int64 and decimals as they are.
        return c.cast(pl.Int64) if col["type"] == "timestamp" else c

    def _values(self, col, table):
        return self._numbers(col, table[col["name"]]).to_list()

    def _take(self, table, positions):
        return table[positions]

    def _where_in(self, table, name, values):
        return table.filter(pl.col(name).is_in(values))

    def summaries(self, columns, table):
        exprs = {}
        for col in columns:
            name = col["name"]
            c = pl.col(name)
            exprs[f"{name}.nulls"] = c.null_count()
            exprs[f"{name}.count"] = c.count()
            if col["type"] == "boolean":
                exprs[f"{name}.true_count"] = c.cast(pl.Int64).sum()
            elif col["type"] == "string":
                exprs[f"{name}.bytes"] = c.str.len_bytes().cast(pl.Int64).sum()
                exprs[f"{name}.distinct"] = c.drop_nulls().n_unique()
                exprs[f"{name}.min"], exprs[f"{name}.max"] = c.min(), c.max()
            else:
                numbers = self._numbers(col, c)
                # Polars sums Int64 in Int64, wrapping; in Int128 (Decimal: 128 bits too) it is exact.
                exact = numbers if col["type"] == "decimal" else numbers.cast(pl.Int128)
                exprs[f"{name}.sum"] = exact.sum()
                exprs[f"{name}.min"], exprs[f"{name}.max"] = numbers.min(), numbers.max()
        row = table.select(**exprs).row(0, named=True)
        out = {}
        for col in columns:
            prefix = f"{col['name']}."
            s = {k[len(prefix):]: v for k, v in row.items() if k.startswith(prefix)}
            if "sum" in s:
                s["sum"] = _raw_total(col, s["sum"])
                s["min"], s["max"] = _raw_number(col, s["min"]), _raw_number(col, s["max"])
            out[col["name"]] = s
        return out


PYARROW = PyArrowReader()
POLARS = PolarsReader()
READERS = (PYARROW, POLARS)


def compare_summary(checks, label, got, want):
    """Every entry of `want` (a summary's keys, see above) against the reader's summary."""
    for key, value in want.items():
        checks.eq(got.get(key), value, f"{label}.{key}")


# ---- the footer, as pyarrow decodes it ------------------------------------------------------
def footer(path):
    """The file's FileMetaData and, per column name, its chunks folded over the row groups:
    chunks, codecs (set of names), dictionary_chunks (chunks with RLE_DICTIONARY data pages),
    dictionary_pages (chunks with a dictionary page), stats_chunks (chunks with statistics),
    null_count and values (non-null values) summed from the statistics, min_max_chunks, and
    min / max over the chunks' statistics as raw values (None without any)."""
    metadata = pq.read_metadata(path)
    folded = {}
    for g in range(metadata.num_row_groups):
        group = metadata.row_group(g)
        for i in range(group.num_columns):
            chunk = group.column(i)
            f = folded.setdefault(chunk.path_in_schema, {
                "chunks": 0, "codecs": set(), "dictionary_chunks": 0, "dictionary_pages": 0, "stats_chunks": 0,
                "null_count": 0, "values": 0, "min_max_chunks": 0, "min": None, "max": None})
            f["chunks"] += 1
            f["codecs"].add(chunk.compression)
            f["dictionary_chunks"] += "RLE_DICTIONARY" in chunk.encodings
            f["dictionary_pages"] += bool(chunk.has_dictionary_page)
            stats = chunk.statistics
            if stats is None:
                continue
            f["stats_chunks"] += 1
            f["null_count"] += stats.null_count
            f["values"] += stats.num_values
            if not stats.has_min_max:
                continue
            f["min_max_chunks"] += 1
            lo, hi = stats.min_raw, stats.max_raw
            if isinstance(lo, bytes):  # BYTE_ARRAY statistics: the strings' UTF-8
                lo, hi = lo.decode("utf-8"), hi.decode("utf-8")
            f["min"] = lo if f["min"] is None else min(f["min"], lo)
            f["max"] = hi if f["max"] is None else max(f["max"], hi)
    return metadata, folded


def footer_bounds(col, summary):
    """The min and max a column's statistics must hold, from a summary of its values (for a
    boolean column, from its true count)."""
    if col["type"] != "boolean":
        return summary["min"], summary["max"]
    return summary["true_count"] == summary["count"], summary["true_count"] > 0
