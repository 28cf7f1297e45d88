"""Rendering validation findings: one line per problem, a JSON document, or JUnit XML for CI."""
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
    lines.append(f"{info['errors']} error(s), {info['warnings']} warning(s) in {info['files']} file(s), "
                 f"{info['factories']} factor{'y' if info['factories'] == 1 else 'ies'}")
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


def _plain(f: Finding) -> str:
    return f"{f.line or 0}:{f.column or 0} {f.pointer or '/'} {f.code}: {f.message}"
