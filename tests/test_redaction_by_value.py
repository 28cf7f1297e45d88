"""Redaction by value: every secret the emulator knows, sent in every encoding and in every field a client can
put it in, is masked in every output: the request journal, /_emulator/state, the log (emulator and libraries,
caught with caplog) and error bodies.

Secrets: an endpoint key, a workspace token, a client secret, an issued token, a SAS signature the emulator
minted, an account key. Encodings: as is, percent-escaped in upper and in lower case, JSON-escaped (``\\/``,
``\\u002b``), base64. Fields: a query parameter (``api_key=``), a header the journal keeps (``User-Agent``), a
form field other than ``client_secret``, a JSON body field, a BES global parameter (an account key inside a
connection string, and the value alone), a path segment that an error message echoes.
"""
from __future__ import annotations

import base64
import json
import logging
import re
from urllib.parse import quote

import pytest
import requests

from adfemu.emulator.storage import BlobAddress

from .arm_helpers import SEED_SP
from .helpers import CUSTOM_ACCOUNT, CUSTOM_KEY, PREDICTIVE, PREDICTIVE_KEY, TRAINING, TRAINING_KEY, WS, WS_TOKEN


def _lower_escapes(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), text)


def _json_escaped(value: str) -> str:
    """JSON's optional escapes: '/' as '\\/', and every other non-alphanumeric character as \\u00XX."""
    return "".join("\\/" if c == "/" else c if c.isalnum() else f"\\u{ord(c):04x}" for c in value)


ENCODINGS = {
    "raw": lambda v: v,
    "percent-upper": lambda v: quote(v, safe=""),
    "percent-lower": lambda v: _lower_escapes(quote(v, safe="")),
    "json-escapes": _json_escaped,
    "base64": lambda v: base64.b64encode(v.encode()).decode(),
}


@pytest.fixture
def secrets(arm) -> dict[str, str]:
    """One secret of each kind, as the emulator knows it."""
    sas = arm.emulator.store.read_sas(BlobAddress(CUSTOM_ACCOUNT, "somecontainer", "some/blob.csv",
                                                  account_key=CUSTOM_KEY))
    signature = requests.utils.unquote(re.search(r"sig=([^&]+)", sas).group(1))
    return {"endpoint key": TRAINING_KEY, "workspace token": WS_TOKEN, "client secret": SEED_SP.secret,
            "issued token": arm.token(), "SAS signature": signature, "account key": CUSTOM_KEY}


def _send(arm, encoded: str) -> list[str]:
    """Every field a client can put ``encoded`` in; returns the response bodies (error messages included)."""
    ca, url = arm.ca_bundle, arm.url
    raw_json = '{"Inputs": {"input1": {"ColumnNames": ["a"], "Values": [["1"]]}}, "GlobalParameters": {}, ' \
               '"Note": "' + encoded + '"}'
    bodies = []
    rrs = requests.post(f"{url}/workspaces/{WS}/services/{PREDICTIVE}/execute?api-version=2.0&api_key={encoded}",
                        data=raw_json, verify=ca, timeout=30,
                        headers={"Authorization": f"Bearer {PREDICTIVE_KEY}", "Content-Type": "application/json",
                                 "User-Agent": f"client/1.0 ({encoded})"})
    bodies.append(rrs.text)
    form = f"grant_type=client_credentials&client_id={SEED_SP.client_id}&resource=https%3A%2F%2Fmanagement.azure.com%2F" \
           f"&client_assertion={encoded}&password={encoded}&client_secret=wrong"
    token = requests.post(f"{url}/{SEED_SP.tenant}/oauth2/token", data=form, verify=ca, timeout=30,
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    bodies.append(token.text)
    bes_body = '{"Inputs": {}, "Outputs": {}, "GlobalParameters": {"Conn": "DefaultEndpointsProtocol=https;' \
               'AccountName=x;AccountKey=' + encoded + '", "Other": "' + encoded + '"}}'
    bes = requests.post(f"{url}/workspaces/{WS}/services/{TRAINING}/jobs?api-version=2.0", data=bes_body, verify=ca,
                        timeout=30, headers={"Authorization": f"Bearer {TRAINING_KEY}",
                                             "Content-Type": "application/json"})
    bodies.append(bes.text)
    echoed = requests.get(f"{url}/workspaces/{quote(encoded, safe='')}/webservices", verify=ca, timeout=30,
                          headers={"Authorization": f"Bearer {WS_TOKEN}"})
    assert echoed.status_code == 404
    bodies.append(echoed.text)
    return bodies


def test_each_secret_in_each_encoding_and_field_is_masked_everywhere(arm, secrets, caplog):
    caplog.set_level(logging.DEBUG)
    sent = {}
    for kind, secret in secrets.items():
        for name, encode in ENCODINGS.items():
            encoded = encode(secret)
            sent[(kind, name)] = encoded
            for body in _send(arm, encoded):
                _assert_clean(body, secrets, f"an error body ({kind}, {name})")
    journal = requests.get(f"{arm.url}/_emulator/requests", verify=arm.ca_bundle, timeout=30).text
    state = requests.get(f"{arm.url}/_emulator/state", verify=arm.ca_bundle, timeout=30).text
    logs = "\n".join(caplog.text.splitlines())
    for where, text in (("the journal", journal), ("/_emulator/state", state), ("the log", logs)):
        _assert_clean(text, secrets, where)
    entries = json.loads(journal)
    assert len(entries) == 1 + len(sent) * 4  # the fixture's token request, then four per secret and encoding
    assert all("***" in e["body"] or "***" in e["query"] or "***" in e["path"] for e in entries)


def _assert_clean(text: str, secrets: dict[str, str], where: str) -> None:
    for kind, secret in secrets.items():
        for name, encode in ENCODINGS.items():
            needle = encode(secret)
            assert needle not in text, f"{where} shows the {kind} {name}: …{_around(text, needle)}…"
            if name == "base64":  # also without padding, as a run inside other base64
                assert needle.rstrip("=")[4:-4] not in text, f"{where} shows the {kind} inside base64"


def _around(text: str, needle: str) -> str:
    i = text.find(needle)
    return text[max(0, i - 60): i + 20]
