"""SQL linked services (``AzureSqlDatabase``, ``SqlServer``, ``AzureSqlDW``, ``AzureSqlMI``) backed by a local
SQLite file: T-SQL is translated to SQLite with sqlglot (read ``tsql``, write ``sqlite``); a statement that
cannot be translated, or that SQLite refuses, fails with the statement and the reason.

Translation beyond sqlglot's, so that T-SQL in the style of Microsoft's templates runs as it does on SQL Server:
- schema qualifiers are dropped (SQLite has one namespace): ``[dbo].[Orders]`` is table ``Orders``;
- a date-and-time string compared with a column (``col >= '2024-06-01T00:00:00Z'``) is written as
  ``'2024-06-01 00:00:00'``, the text form date-times are stored in (SQL Server converts the literal to datetime);
  a date without a time is left as written;
- ``DATEADD`` keeps the time (``DATETIME(...)``), ``CAST``/``CONVERT`` to datetime2/smalldatetime/datetimeoffset
  give ``DATETIME(...)``, ``TRUNCATE TABLE`` is ``DELETE FROM``, ``SET NOCOUNT`` is skipped, ``NEWID()`` works;
- ``@name`` parameters are bound by name, ignoring case as T-SQL does.

Stored procedures (SQLite has none) are declared in the database itself, in a table
``adfemu_procedures(name TEXT PRIMARY KEY, definition TEXT NOT NULL)`` whose ``definition`` is the procedure's
T-SQL ``CREATE PROCEDURE name @p type [= default], ... AS [BEGIN] statement; statement; [END]`` (statements
separated by ``;``). ``define_procedure`` writes one. ``EXEC name args`` in a script calls one; the Stored
procedure activity, ``sqlReaderStoredProcedureName`` and Lookup call them by name. Parameters are converted to
their declared types; missing, unknown and undeclared parameters fail with SQL Server's messages.

Connections are opened per operation (one thread each); nothing is shared.
"""
from __future__ import annotations

import re
import sqlite3
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

from .tabular import Conversion, Incompatible, as_text, canonical_type, convert

PROCEDURES = "adfemu_procedures"
DATETIME_LITERAL = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?$", re.I)
EXEC = re.compile(r"^\s*EXEC(?:UTE)?\s+(?P<name>(?:\[[^\]]+\]|\"[^\"]+\"|[\w#$]+)(?:\.(?:\[[^\]]+\]|\"[^\"]+\"|[\w#$]+))*)"
                  r"\s*(?P<args>.*?)\s*;?\s*$", re.I | re.S)
CREATE = re.compile(r"^\s*CREATE\s+(?:OR\s+ALTER\s+)?PROC(?:EDURE)?\s+(?P<name>\S+)\s*(?P<params>.*?)\s+AS\s+"
                    r"(?P<body>.*)$", re.I | re.S)
SQL_TYPES = [(r"bigint", "Int64"), (r"int|integer|mediumint", "Int32"), (r"smallint", "Int16"), (r"tinyint", "Byte"),
             (r"bit|bool", "Boolean"), (r"decimal|numeric|money|smallmoney", "Decimal"), (r"real", "Single"),
             (r"float|double", "Double"), (r"datetimeoffset", "DateTimeOffset"),
             (r"date|time(?!stamp)|smalldatetime|datetime|timestamp", "DateTime"), (r"uniqueidentifier", "Guid"),
             (r"binary|varbinary|image|blob|rowversion", "Byte[]")]


class SqlError(Exception):
    """A statement cannot be translated or run; the message names it and the reason. ``number`` is SQL Server's
    error number for the same failure, where there is one."""

    def __init__(self, message: str, number: int | None = None):
        super().__init__(message)
        self.number = number


@dataclass
class Result:
    columns: list[str]
    rows: list[list[Any]]
    rowcount: int = -1       # rows a data-changing statement affected
    is_query: bool = False   # the statement returned a result set


@dataclass
class Statement:
    sql: str                                  # SQLite text
    source: str                               # the T-SQL it came from
    parameters: list[str] = field(default_factory=list)
    procedure: tuple[str, list[tuple[str | None, str]]] | None = None  # EXEC: (name, [(param or None, arg)])


def short(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "…"


def translate(tsql: str) -> list[Statement]:
    """T-SQL text (one or more statements separated by ';') as SQLite statements."""
    if EXEC.match(tsql or "") and not re.search(r";\s*\S", tsql.strip().rstrip(";")):
        return [exec_call(tsql)]
    return load_translator().statements(tsql)


def load_translator():
    """``runner.sql_translate`` (and sqlglot), imported by the first run that has SQL databases. The engine calls
    this on the thread that builds it: an import on a worker thread can meet another thread's import under
    pytest's assertion rewriting, which parses both modules with ``ast.parse`` at once, and CPython 3.11 can fail
    that with "SystemError: AST constructor recursion depth mismatch" (pytest-dev/pytest#10763)."""
    from . import sql_translate
    return sql_translate


def normal_datetime(text: str) -> str | None:
    """A date-and-time literal in the stored text form (UTC, ``YYYY-MM-DD HH:MM:SS[.ffffff]``); None if not one."""
    if not DATETIME_LITERAL.match(text.strip()):
        return None
    value = re.sub(r"(\.\d{6})\d+", r"\1", text.strip().replace("z", "Z").replace("Z", "+00:00"))
    value = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return stored(moment)


def stored(value: Any) -> Any:
    """A Python value as SQLite stores it (date-times as UTC text, booleans as 1/0, decimals as text)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        text = value.strftime("%Y-%m-%d %H:%M:%S")
        return text + (f".{value.microsecond:06d}".rstrip("0") if value.microsecond else "")
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (timedelta, dict, list)):
        return as_text(value)
    return value


def interim_of(declared: str | None) -> str:
    """ADF's interim type for a declared SQL column or parameter type."""
    text = (declared or "").strip().lower()
    return next((name for pattern, name in SQL_TYPES if re.match(rf"^(?:{pattern})\b", text)), "String")


# --- EXEC and procedures -----------------------------------------------------------------------------------------

def exec_call(text: str) -> Statement:
    """``EXEC name args``: a call of a stored procedure (see the module docstring)."""
    match = EXEC.match(text)
    if not match:
        raise SqlError(f"The statement cannot be translated: not an EXEC call. Statement: {short(text)}")
    return Statement("", text, procedure=(match.group("name"), _arguments(match.group("args"), text)))


def _arguments(text: str, source: str) -> list[tuple[str | None, str]]:
    args = []
    for piece in _split(text, ","):
        if not piece.strip():
            continue
        name, sep, value = piece.partition("=")
        if sep and re.fullmatch(r"\s*@\w+\s*", name):
            args.append((name.strip().lstrip("@"), value.strip()))
        else:
            args.append((None, piece.strip()))
    return args


def _split(text: str, sep: str) -> list[str]:
    """Split at ``sep`` outside quotes and parentheses."""
    parts, buf, depth, quote = [], [], 0, None
    for char in text:
        if quote:
            buf.append(char)
            if char == quote:
                quote = None
            continue
        if char in "'\"[":
            quote = "]" if char == "[" else char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == sep and depth == 0:
            parts.append("".join(buf))
            buf = []
            continue
        buf.append(char)
    parts.append("".join(buf))
    return parts


def _literal(text: str, variables: dict[str, Any], source: str) -> Any:
    value = text.strip()
    if re.fullmatch(r"N?'(?:[^']|'')*'", value, re.S):
        return value[value.index("'") + 1:-1].replace("''", "'")
    if value.upper() == "NULL":
        return None
    if re.fullmatch(r"[+-]?\d+", value):
        return int(value)
    if re.fullmatch(r"[+-]?(\d+\.\d*|\.\d+)([eE][+-]?\d+)?", value):
        return float(value)
    if value.startswith("@"):
        return _lookup(variables, value[1:], source)
    raise SqlError(f"The EXEC argument {value!r} is not supported by adfemu (literals, NULL and @parameters are). "
                   f"Statement: {short(source)}")


def _lookup(variables: dict[str, Any], name: str, source: str) -> Any:
    for key, value in variables.items():
        if key.lstrip("@").lower() == name.lower():
            return value
    raise SqlError(f'Must declare the scalar variable "@{name}". Statement: {short(source)}', 137)


@dataclass
class Procedure:
    name: str
    parameters: list[tuple[str, str, str | None, bool]]  # (name, declared type, default text, is OUTPUT)
    body: str


def bare_name(name: str) -> str:
    """``[dbo].[usp_x]`` -> ``usp_x``."""
    last = re.split(r"\.(?=(?:[^\]]*\[[^\]]*\])*[^\]]*$)", name.strip())[-1]
    return last.strip().strip("[]\"")


def parse_procedure(definition: str) -> Procedure:
    match = CREATE.match(definition or "")
    if not match:
        raise SqlError("a procedure definition must be 'CREATE PROCEDURE name @p type, ... AS statements'")
    params = []
    text = match.group("params").strip()
    if text.startswith("(") and text.endswith(")"):  # CREATE PROCEDURE p (@a int, ...) AS
        text = text[1:-1]
    for piece in _split(text, ","):
        if not piece.strip():
            continue
        parsed = re.fullmatch(r"\s*@(\w+)\s+(?:AS\s+)?([\w]+(?:\s*\([^)]*\))?)\s*(?:=\s*(.+?))?\s*(OUT|OUTPUT)?\s*",
                              piece, re.I | re.S)
        if not parsed:
            raise SqlError(f"procedure parameter {piece.strip()!r} is not '@name type [= default]'")
        params.append((parsed.group(1), parsed.group(2), parsed.group(3), bool(parsed.group(4))))
    body = re.sub(r"^\s*BEGIN\b(.*)\bEND\s*;?\s*$", r"\1", match.group("body"), flags=re.I | re.S)
    return Procedure(bare_name(match.group("name")), params, body)


# --- the database ----------------------------------------------------------------------------------------------

class Database:
    """One SQLite file; ``with Database(path) as db:`` opens a connection for this thread and commits at the end."""

    def __init__(self, path: str, label: str = ""):
        self.path, self.label = path, label or path
        if not Path(path).is_file():
            raise SqlError(f"the SQLite database {path} (for {self.label}) does not exist")

    def __enter__(self) -> "Database":
        self.connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self.connection.create_function("UUID", 0, lambda: str(uuid.uuid4()))
        self.connection.create_function("NEWID", 0, lambda: str(uuid.uuid4()))
        self.connection.create_function("GETUTCDATE", 0, lambda: stored(datetime.now(timezone.utc)))
        self.connection.execute("BEGIN")
        return self

    def __exit__(self, kind, exc, tb) -> None:
        try:
            self.connection.execute("ROLLBACK" if kind else "COMMIT")
        finally:
            self.connection.close()

    # running T-SQL

    def run(self, tsql: str, variables: dict[str, Any] | None = None) -> list[Result]:
        """Every statement of ``tsql``; ``variables`` bind ``@name`` parameters (names ignoring case)."""
        results = []
        for statement in translate(tsql):
            results += self._run(statement, variables or {})
        return results

    def query(self, tsql: str, variables: dict[str, Any] | None = None) -> Result:
        """Exactly one result set (what Lookup and a Copy source need)."""
        sets = [r for r in self.run(tsql, variables) if r.is_query]
        if len(sets) != 1:
            raise SqlError(f"the query returned {len(sets)} result sets; exactly one is needed. Statement: "
                           f"{short(tsql)}")
        return sets[0]

    def _run(self, statement: Statement, variables: dict[str, Any]) -> list[Result]:
        if statement.procedure:
            name, args = statement.procedure
            given: dict[str, Any] = {}
            positional = []
            for param, text in args:
                value = _literal(text, variables, statement.source)
                if param is None:
                    positional.append(value)
                else:
                    given[param] = value
            return self.call(name, given, positional)
        binding = {p: _lookup(variables, p, statement.source) for p in statement.parameters}
        try:
            cursor = self.connection.execute(statement.sql, binding)
        except sqlite3.Error as exc:
            raise SqlError(f"A database operation failed with the following error: '{exc}'. Statement: "
                           f"{short(statement.source)}") from None
        if cursor.description is None:
            return [Result([], [], cursor.rowcount)]
        columns = [d[0] for d in cursor.description]
        return [Result(columns, [list(r) for r in cursor.fetchall()], -1, True)]

    def procedure(self, name: str) -> Procedure:
        wanted = bare_name(name)
        try:
            rows = self.connection.execute(f"SELECT name, definition FROM {PROCEDURES}").fetchall()
        except sqlite3.Error:
            rows = []
        for stored_name, definition in rows:
            if bare_name(str(stored_name)).lower() == wanted.lower():
                return parse_procedure(str(definition))
        raise SqlError(f"Could not find stored procedure '{wanted}'. (adfemu: declare it in the table "
                       f"{PROCEDURES} of {self.label})", 2812)

    def call(self, name: str, given: dict[str, Any], positional: list[Any] | None = None,
             types: dict[str, str] | None = None) -> list[Result]:
        """Run a procedure with named (and positional) arguments; ``types`` are the callers' ADF types."""
        proc = self.procedure(name)
        declared = {p[0].lower(): p for p in proc.parameters}
        values: dict[str, Any] = {}
        for (pname, *_), value in zip(proc.parameters, positional or []):
            values[pname] = value
        for key, value in given.items():
            entry = declared.get(key.lstrip("@").lower())
            if entry is None:
                raise SqlError(f"@{key.lstrip('@')} is not a parameter for procedure {proc.name}.", 8145)
            values[entry[0]] = value
        for pname, declared_type, default, _ in proc.parameters:
            if pname not in values:
                if default is None:
                    raise SqlError(f"Procedure or function '{proc.name}' expects parameter '@{pname}', which was "
                                   "not supplied.", 201)
                values[pname] = _literal(default, {}, f"default of @{pname}")
            values[pname] = _as_declared(values[pname], declared_type, pname, proc.name)
        return self.run(proc.body, values)

    # tables

    def columns(self, table: str) -> list[tuple[str, str]]:
        """(name, declared type) of a table's columns; empty when the table does not exist."""
        try:
            rows = self.connection.execute(f'PRAGMA table_info("{bare_name(table)}")').fetchall()
        except sqlite3.Error as exc:
            raise SqlError(f"A database operation failed with the following error: '{exc}'.") from None
        return [(r[1], r[2] or "") for r in rows]

    def read_table(self, table: str) -> Result:
        name = bare_name(table)
        if not self.columns(name):
            raise SqlError(f"Invalid object name '{table}'.", 208)
        cursor = self.connection.execute(f'SELECT * FROM "{name}"')
        return Result([d[0] for d in cursor.description], [list(r) for r in cursor.fetchall()], -1, True)

    def create_table(self, table: str, columns: list[str], types: list[str | None]) -> None:
        sql_types = {"Int64": "BIGINT", "Int32": "INT", "Int16": "SMALLINT", "Byte": "TINYINT", "Boolean": "BIT",
                     "Decimal": "DECIMAL(38, 18)", "Double": "FLOAT", "Single": "REAL", "DateTime": "DATETIME2",
                     "DateTimeOffset": "DATETIMEOFFSET", "Guid": "UNIQUEIDENTIFIER", "Byte[]": "VARBINARY"}
        body = ", ".join(f'"{c}" {sql_types.get(t or "", "NVARCHAR")}' for c, t in zip(columns, types))
        try:
            self.connection.execute(f'CREATE TABLE "{bare_name(table)}" ({body})')
        except sqlite3.Error as exc:
            raise SqlError(f"A database operation failed with the following error: '{exc}' (creating table "
                           f"'{table}').") from None

    def insert(self, table: str, columns: list[str], rows: Iterator[list[Any]]) -> Iterator[str | None]:
        """Insert rows one by one; yields None per inserted row or the database's reason per refused row."""
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        sql = f'INSERT INTO "{bare_name(table)}" ({names}) VALUES ({marks})'
        for row in rows:
            try:
                self.connection.execute("SAVEPOINT adfemu_row")
                self.connection.execute(sql, [stored(v) for v in row])
                self.connection.execute("RELEASE adfemu_row")
                yield None
            except sqlite3.Error as exc:
                self.connection.execute("ROLLBACK TO adfemu_row")
                self.connection.execute("RELEASE adfemu_row")
                yield str(exc)


def _as_declared(value: Any, declared_type: str, param: str, proc: str) -> Any:
    try:
        return stored(convert(value, interim_of(declared_type), Conversion(), f"@{param}"))
    except Incompatible:
        raise SqlError(f"Error converting the value '{as_text(value)}' of parameter @{param} of procedure {proc} to "
                       f"{declared_type}.", 8114) from None


def typed(value: Any, adf_type: Any, name: str) -> Any:
    """A parameter value of an ADF type (Stored procedure / Script parameters: String, Int, Int64, Decimal,
    Guid, Boolean, Date, DateTime, ...) as SQLite stores it."""
    target = canonical_type(adf_type) if adf_type else None
    if adf_type and target is None:
        raise SqlError(f"parameter '{name}': type '{adf_type}' is not an ADF parameter type")
    try:
        return stored(convert(value, target, Conversion(), name))
    except Incompatible as exc:
        raise SqlError(f"parameter '{name}': {exc}") from None


def define_procedure(path: str, definition: str) -> None:
    """Declare (or replace) a stored procedure in a SQLite file, adfemu's convention (see the module docstring)."""
    proc = parse_procedure(definition)
    with sqlite3.connect(path) as connection:
        connection.execute(f"CREATE TABLE IF NOT EXISTS {PROCEDURES} (name TEXT PRIMARY KEY, definition TEXT NOT NULL)")
        connection.execute(f"INSERT OR REPLACE INTO {PROCEDURES} (name, definition) VALUES (?, ?)",
                           (proc.name, definition))
    connection.close()
