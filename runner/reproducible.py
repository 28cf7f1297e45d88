"""What makes a run reproducible: the clock it sees (``--now``) and where its ids and random numbers come
from (``--seed``).

- ``Clock(start)``: with ``start``, ``utcNow()`` and ``pipeline().TriggerTime`` are ``start`` for the whole run
  (a frozen clock, as freezegun does), while run records begin at ``start`` and advance with the wall clock, so
  durations stay real. Without it, both are the wall clock.
- ``Ids(seed)``: with a seed, every id (pipeline run, activity run, ``invokedBy``) and every random source
  (``guid()``, ``rand()``) is derived from the seed and a key naming what it is for (the pipeline, the activity's
  place in the run, the attempt), so two runs give the same values whatever order parallel branches run in.
  Without one, ids are random UUIDs and each activity attempt gets a random source from the system's entropy.
"""
from __future__ import annotations

import hashlib
import random
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone


class Clock:
    def __init__(self, start: datetime | None = None):
        if start is not None and start.tzinfo is None:
            start = start.replace(tzinfo=timezone.utc)
        self.start = start
        self._origin = time.monotonic()

    def begin(self) -> "Clock":
        """The clock of one run: records start at ``start`` when the run starts."""
        return Clock(self.start)

    def now(self) -> datetime:
        """For run records."""
        if self.start is None:
            return datetime.now(timezone.utc)
        return self.start + timedelta(seconds=time.monotonic() - self._origin)

    def expression_now(self) -> datetime:
        """For ``utcNow()`` and friends: frozen at ``start`` when there is one."""
        return self.start or datetime.now(timezone.utc)


class Ids:
    def __init__(self, seed: int | None = None):
        self.seed = seed
        self._runs = 0
        self._lock = threading.Lock()

    def new(self, *key: object) -> str:
        """A UUID (version 4 shape): derived from the seed and ``key``, or random."""
        if self.seed is None:
            return str(uuid.uuid4())
        return str(uuid.UUID(bytes=self._digest(key)[:16], version=4))

    def random(self, *key: object) -> random.Random:
        """A random source for one activity attempt's expressions."""
        if self.seed is None:
            return random.Random()
        return random.Random(int.from_bytes(self._digest(key), "big"))

    def next_run(self, pipeline: str) -> str:
        """The id of the next top-level run of ``pipeline`` (the n-th run of this engine)."""
        with self._lock:
            self._runs += 1
            count = self._runs
        return self.new("run", pipeline.lower(), count)

    def _digest(self, key: tuple) -> bytes:
        text = "\x1f".join([str(self.seed), *map(str, key)])
        return hashlib.sha256(text.encode()).digest()


def clone(source: random.Random) -> random.Random:
    """A copy that will draw the same numbers (the input shown in the record matches what the activity used)."""
    copy = random.Random()
    copy.setstate(source.getstate())
    return copy
