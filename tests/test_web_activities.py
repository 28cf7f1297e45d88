"""Web and WebHook activities over real HTTP: a local service started by each test (stopped by its fixture), the
emulator's own endpoints, and MSI / service principal tokens from the emulated Azure AD."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
import requests

from adfemu.runner.identity import managed_identity

from .datafactory import pipeline, write_factory

SP_TENANT, SP_CLIENT, SP_SECRET = "contoso.onmicrosoft.com", "5b1f2a3c-0000-4000-8000-00000000c11e", "sp-secret-value"


class Service:
    """A local HTTP service: records requests, answers per path (status, body, content type, delay)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.routes: dict[str, tuple] = {}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                owner.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                       "body": body})
                status, payload, kind, delay, after = owner.routes.get(self.path, (404, "{}", "application/json", 0,
                                                                                   None))
                if delay:
                    time.sleep(delay)  # the service is slow: what httpRequestTimeout is about
                data = payload.encode()
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-Service", "test")
                self.end_headers()
                self.wfile.write(data)
                if after:
                    threading.Thread(target=after, args=(json.loads(body or "{}"),), daemon=True).start()

            do_GET = do_POST = do_PUT = _handle

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def route(self, path, status=200, body="{}", kind="application/json", delay=0.0, after=None):
        self.routes[path] = (status, body if isinstance(body, str) else json.dumps(body), kind, delay, after)

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def service():
    running = Service()
    yield running
    running.close()


def _web(name, url, method="GET", **props):
    return {"name": name, "type": "WebActivity", "typeProperties": {"method": method, "url": url, **props}}


def _run(adfemu, tmp_path, *activities, **settings):
    root = write_factory(tmp_path / "factory", [pipeline("P", *activities)], linked=())
    return adfemu.run(root, "P", **settings)


def test_web_posts_json_with_headers_and_basic_auth(adfemu, tmp_path, service):
    service.route("/api/run", body={"status": "queued", "id": 7})
    body = '{"table": "@{pipeline().RunId}", "n": 1}'
    auth = {"type": "Basic", "username": "svc", "password": {"type": "SecureString", "value": "p4ss-word"}}
    result = _run(adfemu, tmp_path, _web("Call", f"{service.url}/api/run", "POST", body=body, authentication=auth,
                                         headers={"Content-Type": "application/json", "X-Trace": "t1"}))
    call = result.activity("Call")
    assert call.status == "Succeeded", call.error
    assert call.output["status"] == "queued" and call.output["id"] == 7
    assert call.output["ADFWebActivityResponseHeaders"]["X-Service"] == "test"
    assert call.output["effectiveIntegrationRuntime"]
    sent = service.requests[0]
    assert sent["method"] == "POST" and sent["headers"]["X-Trace"] == "t1"
    assert json.loads(sent["body"]) == {"table": result.run_id, "n": 1}
    assert sent["headers"]["Authorization"].startswith("Basic ")
    assert "p4ss-word" not in json.dumps(result.record)  # the password never reaches the run record


def test_web_non_json_answers_errors_unknown_hosts_and_timeouts(adfemu, tmp_path, service):
    service.route("/text", body="plain words", kind="text/plain")
    service.route("/slow", body={}, delay=2.5)
    result = _run(adfemu, tmp_path,
                  _web("Text", f"{service.url}/text"), _web("NotFound", f"{service.url}/missing"),
                  _web("Outside", "https://example.com/api"),
                  _web("Slow", f"{service.url}/slow", httpRequestTimeout="00:00:01"),
                  _web("NoBody", f"{service.url}/text", "POST"))
    assert result.activity("Text").output["Response"] == "plain words"
    not_found = result.activity("NotFound").error
    assert not_found["errorCode"] == "2108" and "Response status code: '404" in not_found["message"]
    outside = result.activity("Outside").error
    assert outside["errorCode"] == "2108" and "Invalid Url: https://example.com/api" in outside["message"]
    slow = result.activity("Slow").error
    assert slow["errorCode"] == "2108" and "httpRequestTimeout of 1 seconds" in slow["message"]
    assert "body is required for the POST method" in result.activity("NoBody").error["message"]


def _claims(adfemu, token: str) -> dict:
    keys = requests.get(f"{adfemu.url}/common/discovery/keys", timeout=30).json()["keys"]
    key = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(keys[0]))
    return jwt.decode(token, key, algorithms=["RS256"], options={"verify_aud": False})


def test_msi_and_service_principal_get_tokens_from_the_emulated_azure_ad(adfemu, tmp_path, service):
    service.route("/secure", body={"ok": True})
    msi = _web("Msi", f"{service.url}/secure", authentication={"type": "MSI", "resource": "api://local-service"})
    sp = _web("Sp", f"{service.url}/secure", authentication={
        "type": "ServicePrincipal", "tenant": SP_TENANT, "servicePrincipalId": SP_CLIENT,
        "servicePrincipalKey": {"type": "SecureString", "value": SP_SECRET}, "resource": "https://management.azure.com/"})
    unknown = _web("Unknown", f"{service.url}/secure",
                   authentication={"type": "MSI", "resource": "@concat('api://', 'not-provisioned')"})
    result = _run(adfemu, tmp_path, msi, sp, unknown)
    assert result.activity("Msi").status == "Succeeded", result.activity("Msi").error
    claims = {c["aud"]: c for c in (_claims(adfemu, r["headers"]["Authorization"].split(" ", 1)[1])
                                    for r in service.requests)}  # the activities ran in parallel
    msi_claims, sp_claims = claims["api://local-service"], claims["https://management.azure.com/"]
    factory = adfemu.load(tmp_path / "factory").name
    assert msi_claims["aud"] == "api://local-service" and msi_claims["appid"] == managed_identity(factory)[1]
    assert sp_claims["aud"] == "https://management.azure.com/" and sp_claims["appid"] == SP_CLIENT
    error = result.activity("Unknown").error
    assert error["errorCode"] == "2403" and "AADSTS500011" in error["message"]
    assert SP_SECRET not in json.dumps(result.record)


def test_web_against_the_emulator(adfemu, tmp_path):
    """The cloud's login host reaches the emulated Azure AD. The tenant is the factory's managed identity's, which
    provisioning registers because the activity authenticates with it (not left over from an earlier test)."""
    url = "https://login.microsoftonline.com/adfemu.onmicrosoft.com/v2.0/.well-known/openid-configuration"
    msi = {"type": "MSI", "resource": "https://management.azure.com/"}
    result = _run(adfemu, tmp_path, _web("Discovery", url, authentication=msi))
    out = result.activity("Discovery").output
    assert result.status == "Succeeded", result.message
    assert out["token_endpoint"].endswith("/adfemu.onmicrosoft.com/oauth2/v2.0/token")


def _webhook(name, url, timeout="00:10:00", **props):
    return {"name": name, "type": "WebHook", "typeProperties": {
        "method": "POST", "url": url, "headers": {"Content-Type": "application/json"}, "body": json.dumps({"job": name}),
        "timeout": timeout, **props}}


def _callback(payload):
    def call_back(body):
        requests.post(body["callBackUri"], json=payload, timeout=30)
    return call_back


def test_webhook_waits_for_the_callback(adfemu, tmp_path, service):
    service.route("/hook/ok", status=202, after=_callback({"rows": 42}))
    service.route("/hook/fail", status=202, after=_callback({"Output": {}, "StatusCode": "403", "Error": {
        "ErrorCode": "QuotaExceeded", "Message": "the scoring quota is used up"}}))
    service.route("/hook/silent", status=202)
    result = _run(adfemu, tmp_path, _webhook("Ok", f"{service.url}/hook/ok"),
                  _webhook("Fail", f"{service.url}/hook/fail", reportStatusOnCallBack=True),
                  _webhook("Silent", f"{service.url}/hook/silent", timeout="00:00:30"), time_scale=0.01)
    assert result.activity("Ok").status == "Succeeded", result.activity("Ok").error
    assert result.activity("Ok").output == {"rows": 42}
    sent = next(json.loads(r["body"]) for r in service.requests if r["path"] == "/hook/ok")
    assert sent["job"] == "Ok" and sent["callBackUri"].startswith("http://127.0.0.1:")
    fail = result.activity("Fail").error
    assert (fail["errorCode"], fail["message"]) == ("QuotaExceeded", "the scoring quota is used up")
    silent = result.activity("Silent").error
    assert "WebHook timeout 00:00:30" in silent["message"]
