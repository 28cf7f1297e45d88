"""ARM webService bodies are checked against the schemas generated from the saved spec
(schemas/arm-webservice-{api-version}.schema.json), so each api-version's shape rules apply."""
from __future__ import annotations

import pytest

from .arm_helpers import ws_id

GRAPH = {"packageType": "Graph", "title": "t"}


@pytest.mark.parametrize("version, status", [("2016-05-01-preview", 400), ("2017-01-01", 201)])
def test_put_without_location_follows_the_api_version(arm, version, status):
    """location is required by the 2016-05-01-preview envelope only."""
    response = arm.request("PUT", ws_id("newOne"), arm.token(), api_version=version, body={"properties": GRAPH})
    assert response.status_code == status, response.text
    if status == 400:
        assert response.json()["error"]["code"] == "BadRequest" and "location" in response.json()["error"]["message"]


@pytest.mark.parametrize("method, properties, pointer", [
    ("PUT", dict(GRAPH, realtimeConfiguration={"maxConcurrentCalls": "many"}),
     "/properties/realtimeConfiguration/maxConcurrentCalls"),
    ("PATCH", dict(GRAPH, diagnostics={"level": "Loud"}), "/properties/diagnostics/level"),
    ("PATCH", dict(GRAPH, exposeSampleData="yes"), "/properties/exposeSampleData"),
])
def test_a_body_the_spec_refuses_is_400_naming_the_pointer(arm, method, properties, pointer):
    before = arm.request("GET", ws_id(), arm.token()).json()
    body = {"location": "South Central US", "properties": properties}
    response = arm.request(method, ws_id(), arm.token(), body=body)
    error = response.json()["error"]
    assert response.status_code == 400 and error["code"] == "BadRequest" and error["target"] == pointer, error
    after = arm.request("GET", ws_id(), arm.token()).json()
    assert after["properties"]["modifiedOn"] == before["properties"]["modifiedOn"]  # nothing changed
