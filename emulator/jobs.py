"""BES jobs: the state machine and the worker pool that runs experiments.

NotStarted --start--> Running --> Finished | Failed;   DELETE on a live job --> Cancelled.

Jobs never run in the request thread. A job's queue and run time come from its service's
``timing`` (zero by default) and are waited on the job's cancel event, so DELETE interrupts
them. Status reads take one short lock and do no storage I/O, so a client polling with no delay
cannot starve the workers. A finished job's status, with the read SAS minted for each output, is
rendered once and reused for ``STATUS_REUSE_SECONDS`` (the SAS stays valid for 23 hours more at least).

Every change of a job is handed to ``persistence`` under the lock. Finished, Failed and Cancelled jobs are
bounded (``limits.MAX_FINISHED_JOBS``): the one that ended first is dropped first.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from . import errors
from .azurite import DEV_ACCOUNT
from .bes_requests import BesRequest
from .experiments import ExperimentError, ExperimentRun
from .experiments.tables import Table, TableError, format_for, read_table, write_table
from .limits import MAX_FINISHED_JOBS
from .models import Endpoint, WebService, iso, utcnow
from .persistence import NOWHERE, Persistence
from .storage import BlobAddress, BlobStore, StorageUnavailable

log = logging.getLogger(__name__)

NOT_STARTED, RUNNING, FAILED, CANCELLED, FINISHED = "NotStarted", "Running", "Failed", "Cancelled", "Finished"
TERMINAL = (FAILED, CANCELLED, FINISHED)
SERVICE_CONTAINER = "experimentoutput"  # service-owned output storage, as in the docs' Results example
STATUS_REUSE_SECONDS = 3600  # a terminal job's rendered status (and its SAS, valid 24 h) is minted again after this


@dataclass
class Job:
    id: str
    service: WebService
    endpoint: Endpoint
    request: BesRequest
    status: str = NOT_STARTED
    details: str | None = None
    created: datetime = field(default_factory=utcnow)
    started: datetime | None = None
    ended: datetime | None = None
    results: dict[str, BlobAddress] = field(default_factory=dict)
    cancel: threading.Event = field(default_factory=threading.Event)
    rendered: tuple[float, dict, str] | None = None  # a terminal job's status, as JSON, and when (monotonic)


class JobRunner:
    def __init__(self, store: BlobStore, workers: int = 4, max_finished: int = MAX_FINISHED_JOBS):
        self.store = store
        self.persistence: Persistence = NOWHERE
        self.max_finished = max_finished
        self._jobs: dict[str, Job] = {}
        self._finished: OrderedDict[str, None] = OrderedDict()  # terminal jobs, in the order they ended
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bes-job")
        self._idle = threading.Condition(self._lock)
        self._running = 0
        self.faults = None  # emulator/faults.py, set by the Emulator

    # --- API operations ---------------------------------------------------------------------

    def submit(self, svc: WebService, ep: Endpoint, request: BesRequest) -> Job:
        from .config import new_id
        job = Job(new_id(), svc, ep, request)
        with self._lock:
            self._jobs[job.id] = job
            self.persistence.job(job)
        return job

    def get(self, ep: Endpoint, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id.strip('"'))
        if job is None or job.endpoint.id != ep.id:
            raise errors.JobNotFound(job_id)
        return job

    def list(self, ep: Endpoint) -> list[Job]:
        with self._lock:
            return [j for j in self._jobs.values() if j.endpoint.id == ep.id]

    def all(self) -> list[Job]:
        with self._lock:
            return list(self._jobs.values())

    def start(self, job: Job) -> None:
        with self._lock:
            if job.status != NOT_STARTED:
                raise errors.CannotStartJob(job.status)
            job.status, job.started = RUNNING, utcnow()
            self._running += 1
            self.persistence.job(job)
        self._pool.submit(self._run, job)

    def delete(self, job: Job) -> None:
        """Cancel a live job (it stays queryable as Cancelled); forget a finished one."""
        with self._lock:
            if job.status in (NOT_STARTED, RUNNING):
                job.status, job.ended = CANCELLED, utcnow()
                job.cancel.set()
                self._ended(job)
            else:
                self._jobs.pop(job.id, None)
                self._finished.pop(job.id, None)
                self.persistence.forget_jobs([job.id])

    def status(self, job: Job) -> dict:
        """The status document (shared for a terminal job: read it, do not change it)."""
        return self._rendered(job)[0]

    def status_json(self, job: Job) -> str:
        """The status document as JSON text."""
        return self._rendered(job)[1]

    def _rendered(self, job: Job) -> tuple[dict, str]:
        rendered = job.rendered
        if rendered is not None and time.monotonic() - rendered[0] < STATUS_REUSE_SECONDS:
            return rendered[1], rendered[2]
        with self._lock:
            status, details, results = job.status, job.details, dict(job.results)
            created, started, ended = job.created, job.started, job.ended
        body = {
            "StatusCode": status,
            "Results": {name: self._result(addr) for name, addr in results.items()} if status == FINISHED else None,
            "Details": details if status == FAILED else None,
            "CreatedAt": iso(created), "StartTime": iso(started), "EndTime": iso(ended),
        }
        text = json.dumps(body)
        if status in TERMINAL:  # nothing of it changes any more, but the SAS's remaining lifetime
            job.rendered = (time.monotonic(), body, text)
        return body, text

    def clear(self) -> None:
        with self._lock:
            for job in self._jobs.values():
                job.cancel.set()
            self._jobs.clear()
            self._finished.clear()
            self.persistence.all_jobs_forgotten()

    def restore(self, jobs: list[Job]) -> None:
        """Jobs as saved (``restore.py``, before serving; none is Running)."""
        with self._lock:
            self._jobs = {job.id: job for job in jobs}
            ended = sorted((j for j in jobs if j.status in TERMINAL), key=lambda j: j.ended or j.created)
            self._finished = OrderedDict((j.id, None) for j in ended)
            self._drop_oldest()

    def _ended(self, job: Job) -> None:
        """``job`` has just become terminal (under the lock): save it and keep the finished ones bounded."""
        self._finished[job.id] = None
        self.persistence.job(job)
        self._drop_oldest()

    def _drop_oldest(self) -> None:
        dropped = []
        while len(self._finished) > self.max_finished:
            job_id, _ = self._finished.popitem(last=False)
            self._jobs.pop(job_id, None)
            dropped.append(job_id)
        if dropped:
            self.persistence.forget_jobs(dropped)

    def wait_idle(self, timeout: float) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._running == 0, timeout)

    def shutdown(self) -> None:
        """Stop the workers; what is saved stays as it is (a Running job comes back Failed at the next start)."""
        self.persistence = NOWHERE
        self.clear()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _result(self, address: BlobAddress) -> dict:
        return {"ConnectionString": None, "RelativeLocation": address.relative_location,
                "BaseLocation": self.store.base_location(address.account),
                "SasBlobToken": self.store.read_sas(address)}

    # --- the worker ---------------------------------------------------------------------------

    def _run(self, job: Job) -> None:
        try:
            if job.cancel.wait(job.service.queue_seconds):
                return
            if self._injected(job):
                return
            outputs = self._execute(job)
            if job.cancel.wait(job.service.run_seconds):
                return
            results = self._write_outputs(job, outputs)
            self._end(job, FINISHED, results=results)
        except ExperimentError as exc:
            self._end(job, FAILED, details=str(exc))
        except errors.AmlError as exc:
            self._end(job, FAILED, details=exc.one_line())
        except StorageUnavailable as exc:
            log.warning("job %s failed: %s", job.id, exc)
            self._end(job, FAILED, details=f"Error 0000: {exc}")
        except TableError as exc:
            self._end(job, FAILED, details=f"Error 0000: {exc}")
        except Exception as exc:  # a plug-in experiment's own bug: the job fails, the server stays up
            log.exception("job %s failed unexpectedly", job.id)
            self._end(job, FAILED, details=f"Error 0000: Internal error while running the experiment: "
                                           f"{type(exc).__name__}: {exc}")
        finally:
            with self._idle:
                self._running -= 1
                self._idle.notify_all()

    def _injected(self, job: Job) -> bool:
        """An injected fault (emulator/faults.py): the job fails with given Details, or stays Running until DELETE."""
        outcome = self.faults.job_outcome((job.service.id, job.service.name), (job.endpoint.id, job.endpoint.name)) \
            if self.faults is not None else None
        if outcome is not None and outcome[0] == FAILED:
            self._end(job, FAILED, details=outcome[1])
        return outcome is not None

    def _execute(self, job: Job) -> dict:
        svc = job.service
        inputs = {}
        for name, port in job.request.inputs.items():
            data = self.store.read(port.address, port.shown_as)
            inputs[name] = read_table(data, format_for(port.address.blob))
        models = {n: r.model for n, r in job.endpoint.resources.items()}
        run = ExperimentRun(inputs, job.request.global_parameters, models, svc.settings, svc.output_kinds())
        outputs = dict(svc.experiment(run))
        missing = [name for name in svc.output_kinds() if name not in outputs]
        if missing:
            raise ExperimentError(f"Error 0000: The experiment produced no value for output(s): {', '.join(missing)}.")
        return outputs

    def _write_outputs(self, job: Job, outputs: dict) -> dict[str, BlobAddress]:
        results = {}
        for name, kind in job.service.output_kinds().items():
            port = job.request.outputs.get(name)
            address = port.address if port else self._service_owned(job, name, kind)
            value = outputs[name]
            data = write_table(value, format_for(address.blob)) if isinstance(value, Table) else bytes(value)
            if job.cancel.is_set():
                break
            self.store.write(address, data)
            results[name] = address
        return results

    def _service_owned(self, job: Job, name: str, kind: str) -> BlobAddress:
        extension = ".ilearner" if kind == "ilearner" else ".csv"
        return BlobAddress(DEV_ACCOUNT, SERVICE_CONTAINER, f"{job.id}/{name}{extension}",
                           account_key=self.store.key_of(DEV_ACCOUNT))

    def _end(self, job: Job, status: str, details: str | None = None, results: dict | None = None) -> None:
        with self._lock:
            if job.status != RUNNING:  # cancelled meanwhile: keep Cancelled
                return
            job.status, job.details, job.ended = status, details, utcnow()
            job.results = results or {}
            if self._jobs.get(job.id) is job:  # not forgotten meanwhile (reset)
                self._ended(job)
