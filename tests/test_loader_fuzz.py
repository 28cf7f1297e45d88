"""hypothesis against the loaders users feed by hand: the emulator config (emulator/config.py), the expression
parser (runner/expressions.parse) and the factory loader (runner/factory.py load_paths). Every bad input gets
the loader's own structured error (ConfigError, ExpressionError, LoadError with one line), never another
exception. Bounded and seeded (derandomize) so that make test stays fast and repeatable."""
from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adfemu.emulator.config import ConfigError, from_document, load
from adfemu.runner.expressions import ExpressionError, parse
from adfemu.runner.factory import LoadError, load_paths

from .conftest import FIXTURES, seed_document

FUZZ = settings(max_examples=120, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20)
SEED_CONFIG = seed_document()


def _paths(doc, prefix=()):
    """Every JSON path inside ``doc``."""
    yield prefix
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            yield from _paths(value, (*prefix, index))


SEED_PATHS = [p for p in _paths(SEED_CONFIG) if p]


@st.composite
def mutated_configs(draw):
    """The seed config with a few values replaced by arbitrary JSON or removed."""
    doc = copy.deepcopy(SEED_CONFIG)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(SEED_PATHS))
        parent = doc
        try:
            for key in path[:-1]:
                parent = parent[key]
            if draw(st.booleans()):
                parent[path[-1]] = draw(JSON_VALUES)
            elif isinstance(parent, dict):
                parent.pop(path[-1], None)
        except (KeyError, IndexError, TypeError):
            continue
    return doc


@FUZZ
@given(st.one_of(JSON_VALUES, mutated_configs()))
def test_config_documents_load_or_raise_config_error(document):
    try:
        from_document(document, "fuzz.json", FIXTURES)
    except ConfigError as exc:
        assert str(exc).startswith("fuzz.json") or "fuzz.json" in str(exc)


@FUZZ
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode)
       | JSON_VALUES.map(lambda v: json.dumps(v).encode()))
def test_config_files_load_or_raise_config_error(data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "config.json")
        path.write_bytes(data)
        try:
            load(path)
        except ConfigError as exc:
            assert str(exc).startswith(str(path))


TOKENS = ["@", "(", ")", "[", "]", ".", "?.", ",", "'", "''", "{", "}", "pipeline()", "parameters", "concat", "add",
          "activity('a').output", "item()", "1", "-2.5", "true", "null", "'x'", " ", "\\", "@{", "utcNow", "if",
          "variables('v')", "json('{}')", "createArray(1,2)", "xml", "\u00e9", "\x00"]


@FUZZ
@given(st.text(max_size=120) | st.lists(st.sampled_from(TOKENS), max_size=30).map("".join))
def test_expressions_parse_or_raise_expression_error(text):
    try:
        parse(text)
    except ExpressionError as exc:
        assert str(exc) and exc.kind in ("syntax", "function", "arguments", "limit")


ENTITY = st.fixed_dictionaries({"name": st.text(max_size=10) | JSON_VALUES,
                                "properties": JSON_VALUES}, optional={"type": JSON_VALUES})
LAYOUT_DIRS = ["pipeline", "linkedService", "dataset", "trigger", "factory", "globalParameters", "other"]


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(LAYOUT_DIRS), st.text("abcXYZ-_. é", min_size=1, max_size=8),
                          st.binary(max_size=120) | ENTITY.map(lambda d: json.dumps(d).encode())
                          | JSON_VALUES.map(lambda v: json.dumps(v).encode())), min_size=1, max_size=4),
       st.booleans())
def test_factory_folders_and_files_load_or_raise_one_line_load_error(files, as_files):
    with tempfile.TemporaryDirectory() as folder:
        written = []
        for kind, stem, data in files:
            directory = Path(folder, kind)
            directory.mkdir(exist_ok=True)
            path = directory / f"{stem}.json"
            path.write_bytes(data)
            written.append(str(path))
        try:
            load_paths(written if as_files else [folder])
        except LoadError as exc:
            assert "\n" not in str(exc) and str(exc).startswith(exc.path)
