"""Tables as AML moves them: a header and rows of strings, read from and written to CSV, TSV or ARFF."""
from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from operator import itemgetter


class TableError(ValueError):
    """The data cannot be read as a table."""


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]
    # columns already known to hold a finite number in every row: a hint for column_types, not part of the data
    numeric: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    def column(self, name: str) -> list[str]:
        index = self.columns.index(name)
        return [row[index] for row in self.rows]

    def column_types(self) -> list[str]:
        """.NET type names per column, as AML reports them in ``ColumnTypes``."""
        return [infer_type(list(map(itemgetter(i), self.rows)), numeric=name in self.numeric)
                for i, name in enumerate(self.columns)]


def infer_type(values: list[str], numeric: bool = False) -> str:
    """``numeric``: every value is known to be a finite number (the features a model scored), so only Int32 or
    Double is left to decide."""
    present = values if numeric else list(filter(None, values))  # the non-empty cells
    if not present:
        return "String"
    if not numeric and all(v.lower() in ("true", "false") for v in present):
        return "Boolean"
    if _all_ints(present):
        return "Int32"
    if numeric or _all_floats(present):
        return "Double"
    return "String"


def _all_ints(values: list[str]) -> bool:
    """Whether ``int()`` takes every value (a C loop: 10,000 cells in about a millisecond)."""
    try:
        list(map(int, values))
    except (ValueError, TypeError):
        return False
    return True


def _all_floats(values: list[str]) -> bool:
    """``_is_float`` of every value; all finite numbers decided in C loops, anything else value by value."""
    try:
        if all(map(math.isfinite, map(float, values))):
            return True
    except (ValueError, TypeError):
        return False
    return all(map(_is_float, values))


def _is_float(value: str) -> bool:
    try:
        return math.isfinite(float(value)) or value.lower() in ("nan", "inf", "-inf")
    except ValueError:
        return False


def cell(value: object) -> str:
    """A request cell as AML echoes it: always a string (numbers in their shortest exact form)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return repr(value)
    return str(value)


def format_for(name: str) -> str:
    lowered = name.lower()
    for ext in ("tsv", "arff"):
        if lowered.endswith("." + ext):
            return ext
    return "csv"


def read_table(data: bytes, fmt: str = "csv") -> Table:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TableError(f"the data is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    if fmt == "arff":
        return _read_arff(text)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter="\t" if fmt == "tsv" else ","))
    except csv.Error as exc:
        raise TableError(f"the data is not valid {fmt.upper()}: {exc}") from None
    rows = [row for row in rows if row]
    if not rows:
        raise TableError("the data has no header row")
    header, body = rows[0], rows[1:]
    for number, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise TableError(f"row {number} has {len(row)} columns, the header has {len(header)}")
    return Table(header, body)


def write_table(table: Table, fmt: str = "csv") -> bytes:
    if fmt == "arff":
        return _write_arff(table).encode()
    out = io.StringIO()
    # "\r\n" (RFC 4180) also makes the writer quote fields that hold a bare "\r"
    writer = csv.writer(out, delimiter="\t" if fmt == "tsv" else ",", lineterminator="\r\n")
    writer.writerow(table.columns)
    writer.writerows(table.rows)
    return out.getvalue().encode()


_ARFF_ATTRIBUTE = re.compile(r"""@attribute\s+(?:'([^']*)'|"([^"]*)"|(\S+))""", re.IGNORECASE)


def _read_arff(text: str) -> Table:
    columns: list[str] = []
    rows: list[list[str]] = []
    in_data = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("%"):
            continue
        lowered = line.lower()
        if not in_data and lowered.startswith("@attribute"):
            match = _ARFF_ATTRIBUTE.match(line)
            if not match:
                raise TableError(f"cannot read the ARFF declaration '{line}'")
            columns.append(next(g for g in match.groups() if g is not None))
        elif lowered.startswith("@data"):
            in_data = True
        elif in_data:
            values = next(csv.reader([line], skipinitialspace=True, quotechar="'"))
            rows.append([v[1:-1] if len(v) > 1 and v[0] == v[-1] == '"' else v for v in values])
    if not columns:
        raise TableError("the ARFF data declares no @attribute")
    return Table(columns, rows)


def _write_arff(table: Table) -> str:
    kinds = {"Int32": "NUMERIC", "Double": "NUMERIC", "Boolean": "STRING", "String": "STRING"}
    lines = ["@RELATION output"]
    for name, kind in zip(table.columns, table.column_types()):
        lines.append(f"@ATTRIBUTE '{name}' {kinds[kind]}")
    lines.append("@DATA")
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(table.rows)
    return "\n".join(lines) + "\n" + out.getvalue()
