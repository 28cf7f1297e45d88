"""Drive the unmodified ``azmlclient`` 2.6.0 against the adfemu emulator (run with the CPython 3.7 venv).

Only the network changes: a ``requests.Session`` whose transport adapter sends every request for
``{account}.blob.core.windows.net`` to Azurite instead. azmlclient passes that session to
``BlockBlobService`` (``request_session=``) and uses it for its own AML calls, so neither library
is patched. The emulator URL is simply given to azmlclient as the service ``base_url``.

Two ways of mapping the blob host are available (``--blob-mapping``):

``host``  connect to Azurite's address but keep the request line and the ``Host`` header the client
          built (``Host: {account}.blob.core.windows.net``, path ``/{container}/{blob}``). Azurite reads
          the account from the host name ("production-style URL"), and the SharedKey string-to-sign it
          computes (``/{account}/{container}/{blob}``) is the one the client signed.
``path``  rewrite to Azurite's path-style URL ``http://127.0.0.1:PORT/{account}/{container}/{blob}``.
          Azurite then canonicalises the resource as ``/{account}/{account}/{container}/{blob}``, which
          does not match the client's signature: every SharedKey request fails with 403.

Sub-commands (each prints one JSON object on stdout and exits non-zero on failure):

``bes``            ``azmlclient.execute_bes`` with one CSV input; reports the outputs azmlclient read,
                   the ``Results`` of the last job status it received, and a plain GET of each result.
``rr``             ``azmlclient.execute_rr`` with the feature columns of a CSV file.
``storage-probe``  create a container, upload and read back a blob with ``BlockBlobService`` through
                   the chosen mapping; reports each step's HTTP outcome.

azmlclient prints progress on stdout; it is redirected to stderr so stdout carries only the JSON.
"""
import argparse
import contextlib
import hashlib
import io
import json
import re
import sys
import traceback
import uuid
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

BLOB_HOST = re.compile(r"^(?P<account>[a-z0-9]{3,24})\.blob\.core\.windows\.net$", re.IGNORECASE)


class AzuriteHostAdapter(HTTPAdapter):
    """Sends requests for ``{account}.blob.core.windows.net`` to Azurite; other hosts pass through.

    Also keeps a log of every exchange (method, URLs, status, and the body of non-blob responses),
    which the script uses to report what the emulator answered; it changes nothing in the traffic.
    """

    def __init__(self, azurite_url, mapping):
        super(AzuriteHostAdapter, self).__init__()
        parts = urlsplit(azurite_url)
        self.azurite_scheme = parts.scheme
        self.azurite_netloc = parts.netloc
        self.mapping = mapping
        self.log = []

    def send(self, request, **kwargs):
        original = request.url
        parts = urlsplit(original)
        match = BLOB_HOST.match(parts.hostname or "")
        blob = match is not None
        if blob:
            account = match.group("account")
            if self.mapping == "path":
                path = "/" + account + parts.path
                request.url = urlunsplit((self.azurite_scheme, self.azurite_netloc, path, parts.query, ""))
            elif self.mapping == "host":
                request.url = urlunsplit((self.azurite_scheme, self.azurite_netloc, parts.path, parts.query, ""))
                request.headers["Host"] = parts.netloc
            else:
                raise ValueError("unknown blob mapping %r" % self.mapping)
        response = super(AzuriteHostAdapter, self).send(request, **kwargs)
        entry = {"method": request.method, "url": original, "sent_to": request.url, "status": response.status_code,
                 "blob": blob}
        if not blob:
            entry["body"] = response.text[:20000]
        self.log.append(entry)
        return response


def mapped_session(azurite_url, mapping):
    session = requests.Session()
    adapter = AzuriteHostAdapter(azurite_url, mapping)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session, adapter


def read_csv(path, drop=None):
    import pandas as pd
    df = pd.read_csv(path)
    if drop:
        df = df.drop(columns=[c for c in drop if c in df.columns])
    return df


def df_summary(df):
    return {"columns": [str(c) for c in df.columns], "rows": int(len(df)),
            "records": json.loads(df.astype(str).to_json(orient="records"))}


def error_report(exc):
    report = {"ok": False, "error_type": type(exc).__name__, "error": str(exc)[:4000]}
    error_dict = getattr(exc, "error_dict", None)
    if error_dict is not None:  # azmlclient.AzmlException: the AML error envelope
        report["aml_error"] = error_dict
    if getattr(exc, "status_code", None) is not None:  # azure.common.AzureHttpError (storage)
        report["storage_status"] = exc.status_code
        report["storage_error_code"] = getattr(exc, "error_code", None)
    report["traceback"] = traceback.format_exc()[-4000:]
    return report


def cmd_bes(args, session, adapter):
    from azmlclient import execute_bes
    from azure.storage.blob import BlockBlobService

    # The user's one setup step: the container that azmlclient writes into must exist.
    BlockBlobService(account_name=args.account, account_key=args.account_key,
                     request_session=session).create_container(args.container)
    inputs = {args.input_name: read_csv(args.csv)}
    output_names = [n for n in args.output_names.split(",") if n] if args.output_names is not None else None
    params = json.loads(args.params) if args.params else None
    outputs = execute_bes(args.api_key, args.base_url, args.account, args.account_key, args.container,
                          blob_path_prefix=args.blob_path_prefix, inputs=inputs, params=params,
                          output_names=output_names, nb_seconds_between_status_queries=args.poll_seconds,
                          requests_session=session)
    status_bodies = [json.loads(e["body"]) for e in adapter.log
                     if not e["blob"] and e["method"] == "GET" and "/jobs/" in e["url"] and e["status"] == 200]
    final = status_bodies[-1] if status_bodies else None
    downloads = {}
    for name, ref in ((final or {}).get("Results") or {}).items():
        r = requests.get(ref["BaseLocation"] + ref["RelativeLocation"] + ref["SasBlobToken"], timeout=30)
        item = {"status": r.status_code, "sha256": hashlib.sha256(r.content).hexdigest(), "size": len(r.content)}
        try:
            item["json"] = r.json()
        except ValueError:
            item["text_head"] = r.content[:200].decode("utf-8", "replace")
        downloads[name] = item
    submit_bodies = [e for e in adapter.log if not e["blob"] and e["method"] == "POST" and e["url"].split("?")[0]
                     .endswith("/jobs")]
    uploaded = sorted({e["url"].split("?")[0] for e in adapter.log  # block + block-list PUTs, one blob
                       if e["blob"] and e["method"] == "PUT" and "restype=container" not in e["url"]})
    return {"ok": True, "outputs": {k: df_summary(v) for k, v in outputs.items()},
            "status_polls": len(status_bodies), "final_status": final, "result_downloads": downloads,
            "job_id": json.loads(submit_bodies[-1]["body"]) if submit_bodies else None,
            "uploaded_blob_urls": uploaded,
            "traffic": [{k: v for k, v in e.items() if k != "body"} for e in adapter.log]}


def cmd_rr(args, session, adapter):
    from azmlclient import execute_rr
    df = read_csv(args.csv, drop=[c for c in (args.drop or "").split(",") if c])
    outputs = execute_rr(args.api_key, args.base_url, inputs={args.input_name: df},
                         output_names=[args.output_name], requests_session=session)
    return {"ok": True, "input_rows": int(len(df)), "outputs": {k: df_summary(v) for k, v in outputs.items()},
            "traffic": [{k: v for k, v in e.items() if k != "body"} for e in adapter.log]}


def cmd_storage_probe(args, session, adapter):
    from azure.storage.blob import BlockBlobService
    service = BlockBlobService(account_name=args.account, account_key=args.account_key, request_session=session)
    container = "probe" + uuid.uuid4().hex[:12]
    steps = {}
    ok = True
    for step, call in (("create_container", lambda: service.create_container(container, fail_on_exist=True)),
                       ("put_blob", lambda: service.create_blob_from_text(container, "a/b.csv", "x,y\n1,2\n")),
                       ("get_blob", lambda: service.get_blob_to_text(container, "a/b.csv").content)):
        try:
            value = call()
            steps[step] = {"ok": True, "value": value if isinstance(value, (str, bool)) else None}
        except Exception as exc:  # report every step, also after a failure
            ok = False
            steps[step] = {"ok": False, "status": getattr(exc, "status_code", None),
                           "error_code": getattr(exc, "error_code", None), "error": str(exc)[:600]}
    return {"ok": ok, "mapping": args.blob_mapping, "steps": steps,
            "traffic": [{k: v for k, v in e.items() if k != "body"} for e in adapter.log]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command")
    sub.required = True
    for name in ("bes", "rr", "storage-probe"):
        p = sub.add_parser(name)
        p.add_argument("--azurite-url", required=True, help="Azurite blob endpoint, e.g. http://127.0.0.1:10000")
        p.add_argument("--blob-mapping", choices=("host", "path"), default="host")
        if name in ("bes", "storage-probe"):
            p.add_argument("--account", required=True)
            p.add_argument("--account-key", required=True)
        if name in ("bes", "rr"):
            p.add_argument("--base-url", required=True, help="the endpoint's ApiLocation on the emulator")
            p.add_argument("--api-key", required=True)
            p.add_argument("--csv", required=True)
            p.add_argument("--input-name", default="input1")
    bes = sub.choices["bes"]
    bes.add_argument("--container", required=True)
    bes.add_argument("--blob-path-prefix", default=None)
    bes.add_argument("--output-names", default=None, help="comma-separated; '' requests no output override")
    bes.add_argument("--params", default=None, help="GlobalParameters as JSON")
    bes.add_argument("--poll-seconds", type=float, default=0.2)
    rr = sub.choices["rr"]
    rr.add_argument("--drop", default="", help="comma-separated columns to drop from the CSV (e.g. the label)")
    rr.add_argument("--output-name", default="output1")
    args = parser.parse_args(argv)

    session, adapter = mapped_session(args.azurite_url, args.blob_mapping)
    command = {"bes": cmd_bes, "rr": cmd_rr, "storage-probe": cmd_storage_probe}[args.command]
    real_stdout = sys.stdout
    chatter = io.StringIO()
    try:
        with contextlib.redirect_stdout(chatter):
            result = command(args, session, adapter)
    except Exception as exc:
        result = error_report(exc)
        result["traffic"] = [{k: v for k, v in e.items() if k != "body"} for e in adapter.log]
    sys.stderr.write(chatter.getvalue())
    real_stdout.write(json.dumps(result, default=str) + "\n")
    real_stdout.flush()
    return 0 if result.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
