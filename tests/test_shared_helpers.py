"""One helper for one job: connection strings and JSON pointers, shared by the emulator, the runner and the
validator from ``adfemu.schemas`` (the leaf every part may import)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adfemu.schemas import connection_strings, pointers

ROOT = Path(__file__).resolve().parent.parent


# --- connection strings ---------------------------------------------------------------------------

def test_keys_match_ignoring_case_as_azure_storage_reads_them():
    """Microsoft Learn, "Configure Azure Storage connection strings": the keys are not case-sensitive; the runner's
    own parser (Update Resource's SAS) read only 'AccountName' spelled exactly so."""
    parts = connection_strings.parse("defaultendpointsprotocol=https;accountname=acct;ACCOUNTKEY=a2V5;")
    assert parts == {"DefaultEndpointsProtocol": "https", "AccountName": "acct", "AccountKey": "a2V5"}


def test_use_development_storage_stands_for_the_emulator_account():
    """Same page, "Connect to the emulator account using the shortcut": UseDevelopmentStorage=true is
    devstoreaccount1 with its published key; the runner's parser ignored it."""
    parts = connection_strings.parse("UseDevelopmentStorage=true")
    assert parts["AccountName"] == "devstoreaccount1" and parts["AccountKey"] == connection_strings.DEV_KEY


def test_a_malformed_connection_string_names_the_part_not_the_secret():
    with pytest.raises(ValueError) as caught:
        connection_strings.parse("AccountName=acct;s3cr3t-key-without-a-name")
    assert "part 2" in str(caught.value) and "s3cr3t" not in str(caught.value)


def test_the_emulator_and_the_runner_use_the_shared_parser():
    from adfemu.emulator.azurite import DEV_KEY
    from adfemu.emulator.storage import parse_connection_string
    assert DEV_KEY == connection_strings.DEV_KEY
    assert parse_connection_string("usedevelopmentstorage=TRUE")["AccountKey"] == DEV_KEY
    for module in ("runner/activities/aml.py", "runner/blobs.py", "runner/provision.py"):
        text = (ROOT / module).read_text()
        assert "AccountName=" not in text and "def parse_connection_string" not in text, module
    assert "from adfemu.schemas.connection_strings import parse" in (ROOT / "runner" / "blobs.py").read_text()


def test_update_resource_signs_a_sas_for_a_lower_case_connection_string():
    """runner/activities/aml.py split the string itself, case-sensitively: 'accountname=...' failed with
    "needs AccountName and AccountKey"."""
    from adfemu.runner.activities import aml

    class FakeCall:
        pass

    call = FakeCall()
    original = aml._storage
    aml._storage = lambda _call, _name: ("accountname=acct;accountkey=a2V5a2V5a2V5a2V5;", None)
    try:
        location = aml._read_location(call, "Storage", "models/model.ilearner")
    finally:
        aml._storage = original
    assert location["BaseLocation"] == "https://acct.blob.core.windows.net/"
    assert "sig=" in location["SasBlobToken"]


# --- JSON pointers ---------------------------------------------------------------------------------

@given(st.lists(st.one_of(st.text(max_size=6), st.integers(min_value=0, max_value=9)), max_size=5))
def test_pointer_join_and_split_round_trip(path):
    assert pointers.split(pointers.join(path)) == [str(p) for p in path]


def test_rfc6901_examples():
    """RFC 6901 section 5: "/a~1b" is the key "a/b", "/m~0n" the key "m~n"."""
    assert pointers.join(["a/b"]) == "/a~1b" and pointers.join(["m~n"]) == "/m~0n"
    assert pointers.split("/a~1b/m~0n") == ["a/b", "m~n"] and pointers.unescape("~01") == "~1"


def test_pointer_escaping_is_written_once():
    """The escaping lived in five places; now only schemas/pointers.py spells it."""
    spelled = []
    for folder in ("adfemu", "emulator", "runner", "schemas"):
        for path in (ROOT / folder).rglob("*.py"):
            if '"~0"' in path.read_text() or "'~0'" in path.read_text():
                spelled.append(str(path.relative_to(ROOT)))
    assert spelled == ["schemas/pointers.py"]
