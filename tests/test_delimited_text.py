"""DelimitedText reading and writing (runner/formats/delimited.py): ADF's quoting and escaping rules, and round
trips with random delimiters, quotes, escapes and null values (hypothesis)."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from adfemu.runner.formats import delimited
from adfemu.runner.tabular import Table


def test_adf_escapes_quotes_with_the_escape_char_not_by_doubling():
    props = {"firstRowAsHeader": True}
    data = delimited.write(Table(["a", "b"], [['say "hi"', "x,y"], [None, ""]]), props)
    assert data == b'a,b\r\n"say \\"hi\\"","x,y"\r\n,""\r\n'
    assert delimited.read(data, props).rows == [['say "hi"', "x,y"], [None, ""]]
    doubled = {"firstRowAsHeader": True, "escapeChar": '"'}
    assert delimited.write(Table(["a"], [['say "hi"']]), doubled) == b'a\r\n"say ""hi"""\r\n'


def test_reading_handles_line_breaks_skip_lines_and_headerless_files():
    text = b'title line\n\nx;y\r\n1;"two\nlines"\r3;\n'
    table = delimited.read(text, {"columnDelimiter": ";"}, skip_lines=1)
    assert table.columns == ["Prop_0", "Prop_1"]
    assert table.rows == [["x", "y"], ["1", "two\nlines"], ["3", None]]


def test_invalid_dialects_are_refused():
    with pytest.raises(delimited.DelimitedTextError, match="exactly one character"):
        delimited.Dialect.of({"columnDelimiter": "||"})
    with pytest.raises(delimited.DelimitedTextError, match="empty escapeChar needs an empty quoteChar"):
        delimited.Dialect.of({"escapeChar": ""})
    with pytest.raises(delimited.DelimitedTextError, match="not closed"):
        delimited.read(b'a\r\n"open', {})


ALPHABET = st.sampled_from(list("ab ,;|\t#\"'\\^\r\nNULé"))


@st.composite
def dialects(draw):
    delimiter = draw(st.sampled_from([",", ";", "|", "\t", "#"]))
    quote = draw(st.sampled_from(['"', "'", ""]))
    escape = draw(st.sampled_from(["\\", "^"] if not quote else ["\\", "^", quote]))
    return {"columnDelimiter": delimiter, "quoteChar": quote, "escapeChar": escape,
            "nullValue": draw(st.sampled_from(["", "NULL", "\\N"])), "firstRowAsHeader": draw(st.booleans())}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dialects(), st.integers(2, 4).flatmap(lambda width: st.tuples(
    st.lists(st.text(ALPHABET, min_size=1, max_size=6), min_size=width, max_size=width),
    st.lists(st.lists(st.none() | st.text(ALPHABET, max_size=8), min_size=width, max_size=width), max_size=6))))
def test_written_tables_read_back_the_same(props, table):
    header, rows = table
    data = delimited.write(Table(header, rows), props)
    back = delimited.read(data, props)
    # without a quote char, a value written exactly as nullValue (nothing to escape) reads back as null
    unquotable = not props["quoteChar"]
    escaped = set(props["columnDelimiter"] + props["escapeChar"] + "\r\n")
    expected = [[None if v is None or (unquotable and v == props["nullValue"] and not escaped & set(v)) else v
                 for v in row] for row in rows]
    if props["firstRowAsHeader"]:
        assert back.columns == header
    else:  # a headerless file has as many columns as its first row (none without rows)
        assert back.columns == [f"Prop_{i}" for i in range(len(header) if rows else 0)]
    assert back.rows == expected
