"""Profile one request path of `adfemu serve` with py-spy and print the top functions (a text summary).

    .venv/bin/python benchmarks/profile_request_path.py status [--seconds 10] [--py-spy PATH] [--keep prof.txt]
    .venv/bin/python benchmarks/profile_request_path.py rrs-10k

``status``: 8 client threads poll the status of a finished BES job (the seed's training service, its
``.ilearner`` output in service-owned storage, so each status carries a read SAS). ``rrs-10k``: one client sends
10,000-row RRS requests (the 100 rows of fixtures/data/score.csv repeated) to the seed's ``updatable`` endpoint.
The emulator is `adfemu serve --config fixtures/seed-emulator.json` in its own process, so the profile holds the
server's work only. py-spy is not a dependency of adfemu: ``pip install py-spy`` (it needs ptrace; root works).
Not collected by pytest (the file name does not start with ``test_``).
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import (SCORE_CSV, TRAIN_CSV, TRAINING, TRAINING_KEY, UPDATABLE, UPDATABLE_KEY, WS,  # noqa: E402
                           csv_rows)

DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def serve() -> tuple[subprocess.Popen, str, str]:
    process = subprocess.Popen([str(Path(sys.executable).parent / "adfemu"), "serve", "--config",
                                str(ROOT / "fixtures" / "seed-emulator.json"), "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        found = re.search(r"listening on (http://\S+)", line)
        if found:
            threading.Thread(target=process.stdout.read, daemon=True).start()
            url = found.group(1)
            return process, url, requests.get(f"{url}/_emulator/health", timeout=30).json()["storage"]["url"]
        if not line and process.poll() is not None:
            break
    process.kill()
    raise SystemExit("adfemu serve did not start")


def finished_job(url: str, storage: str) -> str:
    from azure.storage.blob import BlobServiceClient
    blobs = BlobServiceClient(f"{storage}/{DEV_ACCOUNT}", credential={"account_name": DEV_ACCOUNT, "account_key": DEV_KEY})
    container = blobs.get_container_client("profileinput")
    if not container.exists():
        container.create_container()
    container.upload_blob("train.csv", TRAIN_CSV, overwrite=True)
    connection = (f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
                  f"BlobEndpoint={storage}/{DEV_ACCOUNT};")
    base = f"{url}/workspaces/{WS}/services/{TRAINING}/jobs"
    headers = {"Authorization": f"Bearer {TRAINING_KEY}"}
    body = {"Inputs": {"input1": {"ConnectionString": connection, "RelativeLocation": "profileinput/train.csv"}},
            "Outputs": {}, "GlobalParameters": {}}
    job = requests.post(f"{base}?api-version=2.0", json=body, headers=headers).json()
    requests.post(f"{base}/{job}/start?api-version=2.0", headers=headers).raise_for_status()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if requests.get(f"{base}/{job}?api-version=2.0", headers=headers).json()["StatusCode"] == "Finished":
            return f"{base}/{job}?api-version=2.0"
        time.sleep(0.05)
    raise SystemExit("the job did not finish")


def load_status(url: str, stop: threading.Event, threads: int = 8) -> tuple[list[int], list[threading.Thread]]:
    headers = {"Authorization": f"Bearer {TRAINING_KEY}"}
    counts = [0] * threads

    def work(i: int) -> None:
        with requests.Session() as http:
            while not stop.is_set():
                http.get(url, headers=headers).raise_for_status()
                counts[i] += 1

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    return counts, workers


def rrs_body(rows: int = 10_000) -> bytes:
    columns, values = csv_rows(SCORE_CSV)
    return json.dumps({"Inputs": {"input1": {"ColumnNames": columns, "Values": (values * (rows // len(values) + 1))[:rows]}},
                       "GlobalParameters": {}}).encode()


def load_rrs(url: str, stop: threading.Event) -> tuple[list[int], list[threading.Thread]]:
    body, counts = rrs_body(), [0]
    headers = {"Authorization": f"Bearer {UPDATABLE_KEY}", "Content-Type": "application/json"}
    target = f"{url}/workspaces/{WS}/services/{UPDATABLE}/execute?api-version=2.0&details=true"

    def work() -> None:
        with requests.Session() as http:
            while not stop.is_set():
                http.post(target, data=body, headers=headers).raise_for_status()
                counts[0] += 1

    worker = threading.Thread(target=work)
    worker.start()
    return counts, [worker]


def summary(raw: str, top: int = 15) -> str:
    """Top functions of py-spy's raw (collapsed) output: inclusive and self share of the samples."""
    inclusive, own, total = collections.Counter(), collections.Counter(), 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [_short(f) for f in stack.split(";")]
        n = int(count)
        total += n
        for frame in set(frames):
            inclusive[frame] += n
        own[frames[-1]] += n
    lines = [f"{total} samples", "inclusive:"]
    lines += [f"  {100 * n / total:5.1f}%  {f}" for f, n in inclusive.most_common(top + 12)
              if not f.startswith(("<module>", "Thread.", "ThreadedTaskDispatcher.handler_thread"))][:top]
    lines.append("self:")
    lines += [f"  {100 * n / total:5.1f}%  {f}" for f, n in own.most_common(top)]
    return "\n".join(lines)


def _short(frame: str) -> str:
    """``function (path/to/file.py:123)`` -> ``function (file.py)``: lines vary between versions."""
    name, _, where = frame.partition(" (")
    file = where.rstrip(")").rsplit(":", 1)[0]
    parts = Path(file).parts
    shown = "/".join(parts[-2:]) if "site-packages" not in parts else "/".join(parts[parts.index("site-packages") + 1:][:2])
    return f"{name} ({shown})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", choices=["status", "rrs-10k"])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--py-spy", default=shutil.which("py-spy") or "py-spy")
    parser.add_argument("--keep", help="also write py-spy's raw output here")
    args = parser.parse_args()
    process, url, storage = serve()
    stop, workers = threading.Event(), []
    try:
        if args.path == "status":
            counts, workers = load_status(finished_job(url, storage), stop)
        else:
            counts, workers = load_rrs(url, stop)
        time.sleep(1)  # warm
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp, "raw.txt")
            before = sum(counts)
            subprocess.run([args.py_spy, "record", "--pid", str(process.pid), "--duration", str(args.seconds),
                            "--rate", "250", "--gil", "--format", "raw", "--output", str(out), "--nonblocking"],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            done = sum(counts) - before
            raw = out.read_text()
        if args.keep:
            Path(args.keep).write_text(raw)
        print(f"{args.path}: {done} requests in {args.seconds} s while profiled ({done / args.seconds:.1f}/s)")
        print(summary(raw))
    finally:
        stop.set()
        for worker in workers:
            worker.join(60)
        process.terminate()
        process.wait(30)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
