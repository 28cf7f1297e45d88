"""T-SQL translated to SQLite with sqlglot (the translation rules are listed in ``runner.sql``). A module of its
own so that sqlglot (a fifth of a second to import) is imported only by runs that have SQL to translate."""
from __future__ import annotations

import re

import sqlglot
from sqlglot import exp
from sqlglot.dialects.sqlite import SQLite
from sqlglot.errors import ErrorLevel, ParseError, SqlglotError
from sqlglot.generators.sqlite import SQLiteGenerator

from .sql import SqlError, Statement, exec_call, normal_datetime, short

COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)


class _Generator(SQLiteGenerator):
    def dateadd_sql(self, expression: exp.DateAdd) -> str:
        return "DATETIME" + super().dateadd_sql(expression)[len("DATE"):]  # T-SQL DATEADD keeps the time

    def cast_sql(self, expression: exp.Cast, safe_prefix: str | None = None) -> str:
        if expression.to.this.name in ("DATETIME2", "SMALLDATETIME", "DATETIMEOFFSET", "TIMESTAMPTZ"):
            return self.func("DATETIME", expression.this)
        return super().cast_sql(expression, safe_prefix)


class AdfemuSQLite(SQLite):
    Generator = _Generator


def statements(tsql: str) -> list[Statement]:
    """The statements of a T-SQL text (separated by ';'), translated."""
    try:
        trees = [t for t in sqlglot.parse(tsql, read="tsql") if t is not None]
    except ParseError as exc:
        raise SqlError(f"The statement cannot be translated from T-SQL to SQLite: {_reason(exc)} (statements are "
                       f"separated by ';'). Statement: {short(tsql)}") from None
    out = []
    for tree in trees:
        source = tree.sql(dialect="tsql")
        if isinstance(tree, exp.Command) and str(tree.this).upper() in ("EXEC", "EXECUTE"):
            out.append(exec_call(f"{tree.this} {tree.expression}"))
            continue
        if _is_nocount(tree):
            continue
        out.append(_statement(tree, source))
    return out


def _statement(tree: exp.Expr, source: str) -> Statement:
    if isinstance(tree, exp.TruncateTable):
        tables = tree.expressions
        if len(tables) != 1:
            raise SqlError(f"The statement cannot be translated: TRUNCATE TABLE of several tables. Statement: "
                           f"{short(source)}")
        tree = exp.Delete(this=tables[0].copy())
    for table in tree.find_all(exp.Table):
        table.set("db", None)
        table.set("catalog", None)
    for node in list(tree.find_all(*COMPARISONS, exp.Between)):
        for key in ("this", "expression", "low", "high"):
            child = node.args.get(key)
            if isinstance(child, exp.Literal) and child.is_string and normal_datetime(child.this):
                child.replace(exp.Literal.string(normal_datetime(child.this)))
    parameters = sorted({p.name for p in tree.find_all(exp.Parameter)}, key=str.lower)
    try:
        sql = AdfemuSQLite().generate(tree, unsupported_level=ErrorLevel.RAISE)
    except SqlglotError as exc:
        raise SqlError(f"The statement cannot be translated from T-SQL to SQLite: {_reason(exc)}. Statement: "
                       f"{short(source)}") from None
    return Statement(sql, source, parameters)


def _is_nocount(tree: exp.Expr) -> bool:
    return isinstance(tree, (exp.Set, exp.Command)) and "NOCOUNT" in tree.sql(dialect="tsql").upper()


def _reason(exc: Exception) -> str:
    text = str(exc).split("\n")[0]
    return re.sub(r"\x1b\[[0-9;]*m", "", text).strip().rstrip(".")


