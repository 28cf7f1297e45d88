"""``EmulatorFlask``: Flask with two per-request costs paid once, for clients that repeat the same request.

A job-status poller sends one URL over and over. For each request werkzeug binds the URL map to the request and
walks its state machine across the ~100 rules of every API (about 50 µs, a quarter of the request's work in the
emulator), and Flask asks ``inspect`` whether each hook and view is a coroutine function (``ensure_sync``, about
4 µs each, three times a request). Both answers depend only on what is asked:

- A successful match depends only on the method and the path: the app uses no host or subdomain matching, no
  ``redirect_defaults`` and no ``redirect_to``, and its converters (string, path, any, ARM's case-insensitive
  keyword) turn text into the same text. So a match is remembered per (``REQUEST_METHOD``, ``PATH_INFO``), at most
  ``REMEMBERED`` of them. A miss, and anything that raises (404, 405, a slash redirect), goes to werkzeug as
  before, every time. With trusted hosts, host or subdomain matching configured, werkzeug matches every time.
- Whether a function is a coroutine function does not change, so ``ensure_sync``'s answer is remembered per
  function, at most ``REMEMBERED`` of them too: the app's views and hooks are a fixed set, but Flask also asks
  about per-request functions (``after_this_request``, class-based views' bound methods).

Both overrides are the hooks Flask documents for this (``create_url_adapter``, ``ensure_sync``).
"""
from __future__ import annotations

from typing import Any, Callable

from flask import Flask
from werkzeug.routing import MapAdapter, Rule

REMEMBERED = 4096  # routes, and functions: then it starts again rather than track use


def _keep(table: dict, key, value):
    if len(table) >= REMEMBERED:
        table.clear()
    table[key] = value
    return value


class EmulatorFlask(Flask):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._routes: dict[tuple[str, str], tuple[Rule, dict[str, Any]]] = {}
        self._sync: dict[Callable, Callable] = {}

    def create_url_adapter(self, request) -> MapAdapter | _RememberingAdapter | None:
        if (request is None or self.config.get("TRUSTED_HOSTS") is not None or self.url_map.host_matching
                or self.subdomain_matching):  # matches that depend on more than method and path: werkzeug's own
            return super().create_url_adapter(request)
        return _RememberingAdapter(self, request)

    def ensure_sync(self, func: Callable) -> Callable:
        found = self._sync.get(func)
        return found if found is not None else _keep(self._sync, func, super().ensure_sync(func))

    def _bound(self, request) -> MapAdapter:
        return super().create_url_adapter(request)


class _RememberingAdapter:
    """Answers ``match(return_rule=True)`` (what Flask's request context asks) from the app's remembered routes;
    anything else goes to the adapter werkzeug binds to the request, made when first needed."""

    __slots__ = ("_app", "_request", "_adapter")

    def __init__(self, app: EmulatorFlask, request):
        self._app = app
        self._request = request
        self._adapter: MapAdapter | None = None

    def match(self, path_info=None, method=None, return_rule=False, query_args=None, websocket=None):
        if not return_rule or path_info is not None or method is not None or websocket is not None:
            return self._bound().match(path_info, method, return_rule, query_args, websocket)
        environ = self._request.environ
        if "HTTP_UPGRADE" in environ:  # werkzeug tells a websocket request apart; not remembered
            return self._bound().match(return_rule=True, query_args=query_args)
        key = (environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", ""))
        routes = self._app._routes
        found = routes.get(key)
        if found is None:
            found = _keep(routes, key, self._bound().match(return_rule=True, query_args=query_args))  # or raises
        rule, args = found
        return rule, dict(args)  # the view's copy: nothing it does changes what is remembered

    def _bound(self) -> MapAdapter:
        if self._adapter is None:
            self._adapter = self._app._bound(self._request)
        return self._adapter

    def __getattr__(self, name: str):  # build (url_for), allowed_methods, ...: the real adapter
        return getattr(self._bound(), name)
