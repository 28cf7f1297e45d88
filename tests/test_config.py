"""Config loading: the schema and semantic checks name file, JSON pointer and problem."""
from __future__ import annotations

import copy
import json

import pytest

from adfemu.emulator.config import ConfigError, load

from .conftest import FIXTURES, seed_document


def _write(tmp_path, doc) -> str:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(doc))
    return str(path)


def test_seed_config_loads():
    config = load(FIXTURES / "seed-emulator.json")
    services = config.document["workspaces"][0]["webServices"]
    assert [s["kind"] for s in services] == ["training", "predictive", "predictive"]
    assert services[2]["arm"]["name"] == "myWebService"
    assert services[1]["endpoints"][1]["id"] == "26734a5889e02fbb1f65cefd00000000"


@pytest.mark.parametrize("mutate, pointer, words", [
    (lambda d: d["workspaces"][0].update(id="a/b"), "/workspaces/0/id", "does not match"),
    (lambda d: d["workspaces"][0]["webServices"][0].update(kind="scoring"), "/workspaces/0/webServices/0/kind", "scoring"),
    (lambda d: d["workspaces"][0]["webServices"][1]["endpoints"][0].update(colour="red"),
     "/workspaces/0/webServices/1/endpoints/0", "colour"),
    (lambda d: d["workspaces"][0]["webServices"][1]["resources"][0].update(model="models/missing.ilearner"),
     "/workspaces/0/webServices/1/resources/0/model", "cannot read"),
    (lambda d: d["workspaces"][0]["webServices"][1]["endpoints"][1].update(name="default"),
     "/workspaces/0/webServices/1/endpoints/1/name", "duplicate endpoint"),
    (lambda d: d["workspaces"][0]["webServices"][0].update(experiment={"callable": "no_such_module:run"}),
     "/workspaces/0/webServices/0/experiment", "cannot import"),
])
def test_bad_config_names_file_pointer_and_problem(tmp_path, mutate, pointer, words):
    doc = copy.deepcopy(seed_document())
    mutate(doc)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "initial.ilearner").write_bytes((FIXTURES / "models" / "initial.ilearner").read_bytes())
    path = _write(tmp_path, doc)
    with pytest.raises(ConfigError) as caught:
        load(path)
    message = str(caught.value)
    assert path in message and pointer in message and words in message, message


def test_malformed_json_names_line_and_column(tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{"workspaces": [\n  {"id": }\n]}')
    with pytest.raises(ConfigError, match=r"config.json:2:\d+: not valid JSON"):
        load(path)


def test_plugin_experiment_runs_in_a_job(aml, blobs):
    from .helpers import PLUGIN, PLUGIN_KEY, upload
    relative = upload(blobs, b"a,label\n1,2\n3,4.5\n")
    out = f"{relative.split('/')[0]}/doubled.csv"
    body = aml.train_body(relative)
    body["Outputs"] = {"output1": {"ConnectionString": aml.connection_string(), "RelativeLocation": out}}
    _, final = aml.run_job(PLUGIN, PLUGIN_KEY, body)
    assert final["StatusCode"] == "Finished", final
    container, blob = out.split("/", 1)
    text = blobs.get_blob_client(container, blob).download_blob().readall().decode()
    assert text.splitlines() == ["a,label,Doubled", "1,2,4.0", "3,4.5,9.0"]
