"""Call an emulated predictive endpoint with the classic ``azureml`` SDK 0.2.7 (run with the CPython 3.7 venv).

The SDK's consumer is ``azureml.services.published``: ``published._invoke`` POSTs
``{"Inputs": {"input1": {"ColumnNames": [...], "Values": [[...]]}}, "GlobalParameters": {}}`` to its
``url`` with the header ``authorization: bearer {key}`` (lower case), using ``requests.post`` directly.
``publish()`` builds that url as ``ApiLocation + '/execute?api-version=2.0'``; for an already published
service the SDK's ``@services.service(url, api_key)`` decorator wraps a stub function into the same
``published`` object. Here the url is the endpoint's ApiLocation on the emulator (only the host differs
from Azure).

The input columns are declared with ``@services.dataframe_service(col=float, ...)``: the SDK's
``_get_args`` takes the ``ColumnNames`` from that schema, while its fallback for plain stubs
(``inspect.getargs(...).keywords``) exists only on Python 2 and raises AttributeError on Python 3
(reported as ``types_only_call``). Typed columns make the SDK send each number JSON-encoded. The
return annotation is a per-column type map (``@services.returns({...})``) because the service answers
with every input column plus ``Scored Labels``: without it the SDK decodes each column by
``ColumnTypes``, which AML returns only with ``details=true`` (the SDK never sends it), so the
un-annotated form fails; it is tried anyway and its outcome reported (``untyped_call``).

Prints one JSON object on stdout; exit status 0 when the typed calls returned predictions.
"""
import argparse
import csv
import json
import sys
import traceback


def build_stub(columns):
    """A stub whose positional parameters are exactly ``columns`` (the SDK reads the code's arg names)."""
    for c in columns:
        if not c.isidentifier():
            raise ValueError("column %r cannot be a Python parameter name" % c)
    namespace = {}
    exec("def predict(%s):\n    pass\n" % ", ".join(columns), namespace)
    return namespace["predict"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--api-location", required=True, help="the endpoint's ApiLocation on the emulator")
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--csv", required=True, help="CSV whose header names the feature columns")
    parser.add_argument("--drop", default="", help="comma-separated columns to leave out (e.g. the label)")
    parser.add_argument("--rows", type=int, default=3, help="rows scored by the batched published.map call")
    args = parser.parse_args(argv)

    from azureml import services

    with open(args.csv, newline="") as f:
        table = list(csv.reader(f))
    drop = {c for c in args.drop.split(",") if c}
    keep = [i for i, c in enumerate(table[0]) if c not in drop]
    columns = [table[0][i] for i in keep]
    rows = [[float(r[i]) for i in keep] for r in table[1:1 + args.rows]]
    url = args.api_location.rstrip("/") + "/execute?api-version=2.0"
    report = {"url": url, "columns": columns}

    def typed_service():
        stub = build_stub(columns)
        stub = services.returns(dict({c: float for c in columns}, **{"Scored Labels": float}))(stub)
        stub = services.dataframe_service(**{c: float for c in columns})(stub)
        return services.service(url, args.api_key)(stub)

    try:
        predict = typed_service()
        report["service_class"] = type(predict).__module__ + "." + type(predict).__name__
        single = predict(*rows[0])
        report["single"] = single
        report["mapped"] = predict.map(*[list(col) for col in zip(*rows)])
        report["ok"] = isinstance(single, dict) and isinstance(single.get("Scored Labels"), float) and \
            len(report["mapped"]) == len(rows)
    except Exception as exc:
        report.update(ok=False, error_type=type(exc).__name__, error=str(exc)[:2000],
                      traceback=traceback.format_exc()[-3000:])

    # The SDK's default decoding (no return annotation, several output columns) indexes ColumnTypes.
    try:
        untyped = services.service(url, args.api_key)(services.dataframe_service(**{c: float for c in columns})(
            build_stub(columns)))
        report["untyped_call"] = {"ok": True, "value": untyped(*rows[0])}
    except Exception as exc:
        report["untyped_call"] = {"ok": False, "error_type": type(exc).__name__, "error": str(exc)[:500]}

    # The documented decorators for a plain function (@types): Python-2-only argument introspection.
    try:
        plain = services.service(url, args.api_key)(services.types(**{c: float for c in columns})(
            build_stub(columns)))
        report["types_only_call"] = {"ok": True, "value": plain(*rows[0])}
    except Exception as exc:
        report["types_only_call"] = {"ok": False, "error_type": type(exc).__name__, "error": str(exc)[:500]}

    # An invalid key: the SDK raises RuntimeError(error.details[0].message) for Unauthorized.
    try:
        services.service(url, "not-the-key")(services.dataframe_service(**{c: float for c in columns})(
            build_stub(columns)))(*rows[0])
        report["bad_key"] = {"raised": False}
    except Exception as exc:
        report["bad_key"] = {"raised": True, "error_type": type(exc).__name__, "error": str(exc)[:500]}

    print(json.dumps(report, default=str))
    return 0 if report.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
