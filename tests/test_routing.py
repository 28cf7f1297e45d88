"""Remembered routes (``emulator/routing.py``) answer exactly what werkzeug's matching answers, every time."""
from __future__ import annotations

import re
import socket

import pytest
import requests
from flask import Flask
from hypothesis import HealthCheck, given, settings, strategies as st
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RoutingException
from werkzeug.test import EnvironBuilder

from adfemu.emulator import routing
from adfemu.emulator.app import Emulator, create_app
from adfemu.emulator.config import load
from adfemu.emulator.storage import BlobStore

from .conftest import FIXTURES
from .helpers import TRAIN_CSV, TRAINING, TRAINING_KEY, upload

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
PLACEHOLDER = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?\w+>")  # <name>, <path:name>, <keyword("a", "b"):name>


@pytest.fixture(scope="module")
def app():
    with socket.socket() as s:  # matching needs no storage: a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    emulator = Emulator(load(FIXTURES / "seed-emulator.json"), BlobStore(dead))
    yield create_app(emulator)
    emulator.close()


def _outcome(match) -> tuple:
    try:
        rule, args = match()
        return "matched", rule.endpoint, args
    except (HTTPException, RoutingException) as exc:
        return type(exc).__name__, getattr(exc, "new_url", None), sorted(getattr(exc, "valid_methods", None) or [])


segment = st.text(st.sampled_from("abcXYZ019-_.~%é "), min_size=1, max_size=6)  # empty ones: the doubled slash


@st.composite
def requests_for_rules(draw, rules: list[str]):
    """A path made from one of the app's own rules (each placeholder filled, ``path`` ones with slashes), or a
    path no rule has; with a method and sometimes a trailing or doubled slash."""
    template = draw(st.sampled_from(rules + ["/nothing/<x>"]))
    path = PLACEHOLDER.sub(lambda m: draw(_filling(*m.groups())), template)
    path = draw(st.sampled_from([path, path + "/", path[0] + path[1:].replace("/", "//", 1)]))
    return draw(st.sampled_from(METHODS)), path


def _filling(converter: str | None, arguments: str | None) -> st.SearchStrategy[str]:
    if converter == "path":
        return st.lists(segment, min_size=1, max_size=3).map("/".join)
    if arguments:  # any(workspaces, subscriptions), keyword("resourceGroups", ...): a word in some case, or not
        words = re.findall(r"\w+", arguments)
        return st.sampled_from(words).flatmap(lambda w: st.sampled_from([w, w.upper(), w.lower()])) | segment
    return segment


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_remembered_route_matches_as_werkzeug_does(app, data):
    method, path = data.draw(requests_for_rules(sorted(r.rule for r in app.url_map.iter_rules())))

    def request():
        return app.request_class(EnvironBuilder(path=path, method=method).get_environ())

    expected = _outcome(lambda: Flask.create_url_adapter(app, request()).match(return_rule=True))
    first = _outcome(lambda: app.create_url_adapter(request()).match(return_rule=True))
    again = _outcome(lambda: app.create_url_adapter(request()).match(return_rule=True))  # from memory if matched
    assert first == expected and again == expected


def test_what_a_view_does_to_its_arguments_is_not_remembered(app):
    def request():
        return app.request_class(EnvironBuilder(path="/_emulator/health").get_environ())

    rule, args = app.create_url_adapter(request()).match(return_rule=True)
    args["injected"] = "x"
    assert app.create_url_adapter(request()).match(return_rule=True) == (rule, {})


def test_remembered_routes_and_functions_are_bounded(app, monkeypatch):
    monkeypatch.setattr(routing, "REMEMBERED", 5)
    for n in range(12):
        environ = EnvironBuilder(path=f"/workspaces/ws/services/ep/jobs/job{n}").get_environ()
        app.create_url_adapter(app.request_class(environ)).match(return_rule=True)
        per_request = lambda response: response  # noqa: E731 (as after_this_request makes one per request)
        assert app.ensure_sync(per_request) is per_request
        assert len(app._routes) <= 5 and len(app._sync) <= 5


def test_a_polled_job_url_still_answers_405_and_404_in_the_aml_envelope(aml, blobs):
    """After status polls of a job (its route remembered), the same URL with another method and a deleted job
    get the answers a client expects."""
    job, final = aml.run_job(TRAINING, TRAINING_KEY, aml.train_body(upload(blobs, TRAIN_CSV)))  # polls its status
    url = f"{aml.runtime(TRAINING)}/jobs/{job}?api-version=2.0"
    assert final["StatusCode"] == "Finished"
    assert requests.get(url, headers=aml.auth(TRAINING_KEY)).json() == final

    put = requests.put(url, headers=aml.auth(TRAINING_KEY))
    assert put.status_code == 405 and put.json()["error"]["code"] == "MethodNotAllowed"
    assert requests.delete(url, headers=aml.auth(TRAINING_KEY)).status_code == 200
    gone = requests.get(url, headers=aml.auth(TRAINING_KEY))
    assert gone.status_code == 404 and gone.json()["error"]["details"][0]["code"] == "JobNotFound"
