"""Idle and slow connections do not block other clients: 300 idle sockets (some with half a request) open, health
and scoring still answer within 1 s, over HTTP (waitress) and HTTPS (werkzeug); idle connections are closed."""
from __future__ import annotations

import socket
import time
from contextlib import ExitStack

import requests

from adfemu.emulator.app import create_app
from adfemu.emulator.server import EmulatorServer

from .helpers import PREDICTIVE, PREDICTIVE_KEY, SCORE_CSV, csv_rows, deadline_poll

IDLE = 300


def _idle_sockets(stack: ExitStack, port: int, count: int = IDLE) -> None:
    """``count`` connections: a third say nothing, a third send half a request line, a third half the headers."""
    partial = [b"", b"GET /_emulator/hea", b"POST /workspaces/x/services/y/execute HTTP/1.1\r\nHost: x\r\nContent-"]
    for i in range(count):
        sock = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=5))
        if partial[i % 3]:
            sock.sendall(partial[i % 3])


def _within_a_second(call) -> float:
    began = time.monotonic()
    response = call()
    took = time.monotonic() - began
    assert response.status_code == 200, response.text
    assert took < 1.0, f"answered after {took:.2f} s"
    return took


def test_300_idle_connections_do_not_block_health_or_scoring(aml):
    columns, rows = csv_rows(SCORE_CSV)
    body = {"Inputs": {"input1": {"ColumnNames": columns, "Values": rows[:5]}}, "GlobalParameters": {}}
    port = int(aml.url.rsplit(":", 1)[1])
    with ExitStack() as stack:
        _idle_sockets(stack, port)
        health = _within_a_second(lambda: requests.get(f"{aml.url}/_emulator/health", timeout=5))
        scoring = _within_a_second(lambda: requests.post(f"{aml.runtime(PREDICTIVE)}/execute?api-version=2.0",
                                                         json=body, headers=aml.auth(PREDICTIVE_KEY), timeout=5))
    print(f"with {IDLE} idle connections: health {health * 1000:.0f} ms, RRS {scoring * 1000:.0f} ms")


def test_300_idle_connections_do_not_block_the_tls_server(arm):
    port = int(arm.url.rsplit(":", 1)[1])
    with ExitStack() as stack:
        _idle_sockets(stack, port)  # no TLS handshake at all: the accepting thread must not wait for one
        took = _within_a_second(lambda: requests.get(f"{arm.url}/_emulator/health", verify=arm.ca_bundle, timeout=5))
    print(f"with {IDLE} idle connections: HTTPS health {took * 1000:.0f} ms")


def test_idle_connections_are_closed_after_the_channel_timeout(emulator_server):
    emulator, _ = emulator_server
    server = EmulatorServer(create_app(emulator), channel_timeout=1, cleanup_interval=1).start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\n")  # never finished
            deadline_poll(lambda: sock.recv(1024) == b"", timeout=10)
    finally:
        server.stop()
