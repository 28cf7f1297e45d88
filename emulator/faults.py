"""Fault injection: ordered rules that make the emulated APIs fail, slow down or misbehave, so that tests can
check how a pipeline reacts (the idea of LocalStack's chaos API, reduced to what ADF's AzureML activities meet).

A rule matches on API, operation, web service and endpoint, fires for its first ``count`` matches and/or with a
seeded ``probability``, and has one effect. Each effect acts at one place:

- ``request`` (``apis/faults.py``, before a route runs): ``error`` (429/500/503 in the API's own envelope) and
  ``latency``;
- ``job`` (``jobs.py``, when a started BES job would run): ``jobFailed``, ``jobRunning``;
- ``armOperation`` (``arm.py``, a PUT/PATCH's async operation): ``armOperationFailed``;
- ``token`` (``aad.py``, a token being issued): ``tokenExpiresEarly``;
- ``storage`` (``storage.py``, the emulator's own blob reads and writes): ``storageOutage`` and ``latency``.

Latency rules add up and matching goes on; the first other rule that fires decides. No Flask here.
"""
from __future__ import annotations

import copy
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

from adfemu import schemas

APIS = ("bes", "rrs", "swagger", "management", "arm", "aad", "storage")
ALIASES = {"jobs": "bes", "scoring": "rrs"}
HTTP_APIS = frozenset(APIS) - {"storage"}
OPERATIONS = {
    "bes": ("submit", "start", "status", "delete", "list", "run"),
    "rrs": ("execute",),
    "swagger": ("get",),
    "management": ("listServices", "getService", "listEndpoints", "getEndpoint", "putEndpoint", "patchEndpoint",
                   "deleteEndpoint", "refreshEndpoint"),
    "arm": ("get", "put", "patch", "delete", "list", "listKeys", "operationStatus", "operations"),
    "aad": ("token", "openidConfiguration", "instanceDiscovery", "keys"),
    "storage": ("read", "write", "exists"),
}
# effect -> (where it acts, the APIs it can apply to, the fields it takes)
EFFECTS = {
    "error": ("request", HTTP_APIS, {"status", "retryAfter", "message"}),
    "latency": ("request", frozenset(APIS), {"ms"}),
    "jobFailed": ("job", frozenset({"bes"}), {"details"}),
    "jobRunning": ("job", frozenset({"bes"}), set()),
    "armOperationFailed": ("armOperation", frozenset({"arm"}), {"message"}),
    "tokenExpiresEarly": ("token", frozenset({"aad"}), {"lifetimeSeconds"}),
    "storageOutage": ("storage", frozenset({"storage"}), {"message"}),
}
REQUIRED = {"error": ("status",), "latency": ("ms",)}
# the operations at which the effects that do not act on a request happen
POINT_OPERATIONS = {"job": ("run",), "armOperation": ("put", "patch"), "token": ("token",)}


class FaultError(ValueError):
    """A rule cannot be used: one line naming the JSON pointer and the problem."""


@dataclass
class Rule:
    id: str
    effect: dict
    api: str | None = None
    operation: str | None = None
    service: str | None = None
    endpoint: str | None = None
    probability: float | None = None
    count: int | None = None
    fired: int = 0
    matched: int = 0

    @property
    def point(self) -> str:
        """Where the rule acts; latency acts where its API and operation say (a storage call, a job's run)."""
        if self.api == "storage":
            return "storage"
        if self.effect["type"] == "latency" and (self.operation or "").lower() == "run":
            return "job"
        return EFFECTS[self.effect["type"]][0]

    def document(self) -> dict:
        shown = {k: v for k, v in (("id", self.id), ("api", self.api), ("operation", self.operation),
                                   ("service", self.service), ("endpoint", self.endpoint),
                                   ("probability", self.probability), ("count", self.count)) if v is not None}
        shown["effect"] = dict(self.effect)
        shown["matched"], shown["fired"] = self.matched, self.fired
        shown["remaining"] = None if self.count is None else max(0, self.count - self.fired)
        return shown

    def matches(self, api: str, operation: str | None, services: Iterable[str], endpoints: Iterable[str]) -> bool:
        if self.api is not None and self.api != api:
            return False
        if self.api is None and api not in EFFECTS[self.effect["type"]][1]:
            return False
        if self.operation is not None and (operation is None or self.operation.lower() != operation.lower()):
            return False
        if self.service is not None and self.service.lower() not in {s.lower() for s in services if s}:
            return False
        return self.endpoint is None or self.endpoint.lower() in {e.lower() for e in endpoints if e}


@dataclass
class Decision:
    """What the rules say for one call: a delay (seconds) and at most one other effect."""
    delay: float = 0.0
    effect: dict | None = None
    rule: str | None = None


@dataclass
class Faults:
    """The rule list (thread-safe). ``configured`` rules come back on every ``reset``."""
    section: dict | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        section = self.section or {}
        self._serial = 0
        self._configured = self._named(parse(section.get("rules", []), "/faults/rules"))
        self._config_seed = int(section.get("seed", 0))
        self.reset()

    # --- the control API ----------------------------------------------------------------------------

    def reset(self) -> None:
        with self._lock:
            self._rules = copy.deepcopy(self._configured)
            self.seed = self._config_seed
            self._random = random.Random(self.seed)

    def update(self, body: Any) -> dict:
        """POST /_emulator/faults: ``{"rules": [...], "seed": n, "replace": bool}``."""
        problem = schemas.first_problem(body, "emulator-config", "faultsUpdate")
        if problem is not None:
            raise FaultError(f"{problem.pointer or '/'}: {problem.message}")
        rules = parse(body["rules"], "/rules")
        with self._lock:
            rules = self._named(rules)
            if body.get("replace"):
                self._rules = rules
            else:
                by_id = {r.id: i for i, r in enumerate(self._rules)}
                for rule in rules:
                    if rule.id in by_id:
                        self._rules[by_id[rule.id]] = rule
                    else:
                        by_id[rule.id] = len(self._rules)
                        self._rules.append(rule)
            if "seed" in body:
                self.seed = body["seed"]
                self._random = random.Random(self.seed)
        return self.listing()

    def _named(self, rules: list[Rule]) -> list[Rule]:
        """Rules without an id get ``rule<n>``, unique for this emulator's life."""
        for rule in rules:
            if not rule.id:
                self._serial += 1
                rule.id = f"rule{self._serial}"
        return rules

    def remove(self, rule_id: str) -> bool:
        with self._lock:
            kept = [r for r in self._rules if r.id != rule_id]
            found, self._rules = len(kept) != len(self._rules), kept
        return found

    def clear(self) -> None:
        with self._lock:
            self._rules = []

    def listing(self) -> dict:
        with self._lock:
            return {"seed": self.seed, "rules": [r.document() for r in self._rules]}

    # --- decisions ----------------------------------------------------------------------------------

    @property
    def idle(self) -> bool:
        """No rule at all, so every decision is "nothing" (read without the lock: a rule being added applies
        from the next call on)."""
        return not self._rules

    def decide(self, point: str, api: str, operation: str | None, services: Iterable[str] = (),
               endpoints: Iterable[str] = ()) -> Decision:
        """Walk the rules in order: latency rules add up, the first other rule that fires decides."""
        decision = Decision()
        if self.idle:
            return decision
        services, endpoints = list(services), list(endpoints)
        with self._lock:
            for rule in self._rules:
                if rule.point != point or not rule.matches(api, operation, services, endpoints):
                    continue
                rule.matched += 1
                if rule.count is not None and rule.fired >= rule.count:
                    continue
                if rule.probability is not None and self._random.random() >= rule.probability:
                    continue
                rule.fired += 1
                if rule.effect["type"] == "latency":
                    decision.delay += rule.effect["ms"] / 1000
                    continue
                decision.effect, decision.rule = dict(rule.effect), rule.id
                break
        return decision

    def job_outcome(self, service_ids: Iterable[str], endpoint_ids: Iterable[str]) -> tuple[str, str | None] | None:
        """("Failed", details) or ("Running", None) for a BES job about to run; None: run it."""
        decision = self.decide("job", "bes", "run", service_ids, endpoint_ids)
        _sleep(decision.delay)
        effect = decision.effect
        if effect is None:
            return None
        if effect["type"] == "jobRunning":
            return "Running", None
        return "Failed", effect.get("details") or f"Error 0000: The job failed (fault rule '{decision.rule}')."

    def arm_failure(self, operation: str | None, names: Iterable[str]) -> str | None:
        """The message an ARM async operation fails with, or None."""
        decision = self.decide("armOperation", "arm", operation, names, ())
        if decision.effect is None:
            return None
        return decision.effect.get("message") or f"The operation failed (fault rule '{decision.rule}')."

    def token_lifetime(self, client_id: str, lifetime: int) -> int:
        """The lifetime (seconds) of a token being issued to ``client_id``."""
        decision = self.decide("token", "aad", "token", (client_id,), ())
        if decision.effect is None:
            return lifetime
        return min(lifetime, int(decision.effect.get("lifetimeSeconds", 0)))

    def storage(self, operation: str) -> str | None:
        """Waits for storage latency rules; the outage message when a storageOutage rule fires."""
        decision = self.decide("storage", "storage", operation)
        _sleep(decision.delay)
        if decision.effect is None:
            return None
        return decision.effect.get("message") or f"storage is unavailable (fault rule '{decision.rule}')"


def _sleep(seconds: float) -> None:
    if seconds > 0:
        time.sleep(seconds)


# --- parsing ----------------------------------------------------------------------------------------

def parse(items: Any, where: str) -> list[Rule]:
    """Rules from JSON (schema-checked by the caller); raises FaultError naming the first bad one."""
    rules, ids = [], set()
    for index, item in enumerate(items):
        rule = _rule(item, f"{where}/{index}")
        if rule.id and rule.id in ids:
            raise FaultError(f"{where}/{index}/id: the id '{rule.id}' is used by an earlier rule")
        ids.add(rule.id)
        rules.append(rule)
    return rules


def _rule(item: dict, pointer: str) -> Rule:
    effect = dict(item["effect"])
    kind = effect["type"]
    point, apis, allowed = EFFECTS[kind]
    api = ALIASES.get(item.get("api"), item.get("api"))
    if api is not None and api not in apis:
        raise FaultError(f"{pointer}/api: the effect '{kind}' does not apply to the API '{api}' "
                         f"(it applies to: {', '.join(sorted(apis))})")
    extra = sorted(set(effect) - allowed - {"type"})
    if extra:
        raise FaultError(f"{pointer}/effect/{extra[0]}: the effect '{kind}' takes no '{extra[0]}'")
    for name in REQUIRED.get(kind, ()):
        if name not in effect:
            raise FaultError(f"{pointer}/effect: the effect '{kind}' needs '{name}'")
    if kind == "error" and "retryAfter" in effect and effect["status"] == 500:
        raise FaultError(f"{pointer}/effect/retryAfter: Retry-After goes with status 429 or 503, not 500")
    operation = item.get("operation")
    if operation is not None:
        known = sorted(POINT_OPERATIONS.get(point) or {o for a in ([api] if api else apis) for o in OPERATIONS[a]})
        if operation.lower() not in {o.lower() for o in known}:
            raise FaultError(f"{pointer}/operation: unknown operation '{operation[:64]}' (known: {', '.join(known)})")
    return Rule(item.get("id") or "", effect, api, operation, item.get("service"),
                item.get("endpoint"), item.get("probability"), item.get("count"))
