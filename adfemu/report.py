"""Rendering validation findings: one line per problem, a JSON document, JUnit XML for CI, SARIF 2.1.0 for
code-scanning UIs, or GitHub Actions workflow commands (annotations on the changed lines)."""
from __future__ import annotations

import json
from collections import Counter
from xml.etree import ElementTree as ET

from adfemu.schemas.entities import Finding


def summary(findings: list[Finding], files: int, factories: int) -> dict:
    by_code = Counter(f.code for f in findings)
    return {"errors": sum(f.severity == "error" for f in findings),
            "warnings": sum(f.severity == "warning" for f in findings),
            "files": files, "factories": factories, "byCode": dict(sorted(by_code.items()))}


def text(findings: list[Finding], info: dict) -> str:
    lines = []
    for f in findings:
        where = f"{f.source}:{f.line or 0}:{f.column or 0}"
        line = f"{where}: {f.severity} {f.code} {f.pointer or '/'}: {f.message}"
        if f.hint:
            line += f" (hint: {f.hint})"
        lines.append(line)
    lines.append(text_summary(info))
    return "\n".join(lines)


def as_json(findings: list[Finding], info: dict) -> str:
    return json.dumps({"problems": [f.as_dict() for f in findings], "summary": info}, indent=2)


def junit(findings: list[Finding], info: dict, sources: list[str]) -> str:
    suites = ET.Element("testsuites", name="adfemu validate", tests=str(len(sources)),
                        failures=str(len({f.source for f in findings if f.severity == "error"})))
    suite = ET.SubElement(suites, "testsuite", name="adf-definitions", tests=str(len(sources)),
                          failures=suites.get("failures"), errors="0")
    by_source: dict[str, list[Finding]] = {}
    for f in findings:
        by_source.setdefault(f.source, []).append(f)
    for source in sources:
        case = ET.SubElement(suite, "testcase", classname="adfemu.validate", name=source)
        mine = by_source.get(source, [])
        errors = [f for f in mine if f.severity == "error"]
        if errors:
            failure = ET.SubElement(case, "failure", message=f"{len(errors)} error(s)", type="validation")
            failure.text = "\n".join(_plain(f) for f in errors)
        warnings = [f for f in mine if f.severity == "warning"]
        if warnings:
            ET.SubElement(case, "system-out").text = "\n".join(_plain(f) for f in warnings)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)


SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVELS = {"error": "error", "warning": "warning"}


def sarif(findings: list[Finding], info: dict, version: str) -> str:
    """SARIF 2.1.0 (OASIS): one run of the tool ``adfemu``, one rule per code, one result per finding, located by
    file, line and column (1-based, as SARIF's default columnKind counts UTF-16 code units; adfemu counts code
    points, which differ only outside the BMP) and by the JSON pointer as a logical location."""
    codes = sorted({f.code for f in findings})
    rule_index = {code: i for i, code in enumerate(codes)}
    results = []
    for f in findings:
        location = {"physicalLocation": {"artifactLocation": {"uri": _uri(f.source)}},
                    "logicalLocations": [{"fullyQualifiedName": f.pointer or "/", "kind": "element"}]}
        if f.line:
            location["physicalLocation"]["region"] = {"startLine": f.line, "startColumn": f.column or 1}
        text = f.message + (f" (hint: {f.hint})" if f.hint else "")
        results.append({"ruleId": f.code, "ruleIndex": rule_index[f.code], "level": SARIF_LEVELS[f.severity],
                        "message": {"text": text}, "locations": [location]})
    rules = [{"id": code, "shortDescription": {"text": f"adfemu validate {code} (docs/validate.md lists every code)"}}
             for code in codes]
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0",
           "runs": [{"tool": {"driver": {"name": "adfemu", "version": version, "rules": rules}},
                     "results": results, "properties": {"summary": info}}]}
    return json.dumps(log, indent=2)


def _uri(path: str) -> str:
    """A relative path as a URI reference (forward slashes, spaces and other reserved characters escaped)."""
    from urllib.parse import quote
    return quote(path.replace("\\", "/"))


def github(findings: list[Finding], info: dict) -> str:
    """GitHub Actions workflow commands: ``::error file=...,line=...,col=...,title=CODE::message`` per finding
    (GitHub Docs, "Workflow commands for GitHub Actions": setting an error / a warning message), then the
    summary line. Properties and messages are escaped as the runner expects (``%``, CR, LF; and ``:`` ``,`` in
    properties)."""
    lines = []
    for f in findings:
        props = [f"file={_gh_property(f.source)}"]
        if f.line:
            props += [f"line={f.line}", f"col={f.column or 1}"]
        props.append(f"title={_gh_property(f.code)}")
        text = f"{f.pointer or '/'}: {f.message}" + (f" (hint: {f.hint})" if f.hint else "")
        lines.append(f"::{f.severity} {','.join(props)}::{_gh_data(text)}")
    lines.append(text_summary(info))
    return "\n".join(lines)


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def text_summary(info: dict) -> str:
    return (f"{info['errors']} error(s), {info['warnings']} warning(s) in {info['files']} file(s), "
            f"{info['factories']} factor{'y' if info['factories'] == 1 else 'ies'}")


def _plain(f: Finding) -> str:
    return f"{f.line or 0}:{f.column or 0} {f.pointer or '/'} {f.code}: {f.message}"
