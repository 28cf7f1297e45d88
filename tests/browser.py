"""Headless Chromium for the browser tests: Debian's `chromium`, driven by Playwright (which never downloads a
browser of its own here). Tests that need it skip, saying why, where no Chromium exists (.ci/run installs it)."""
from __future__ import annotations

import shutil
import struct
import tempfile
import zlib

import pytest

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic"]


@pytest.fixture(scope="session")
def browser():
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("no Chromium on PATH (Debian package `chromium`; .ci/run installs it): browser tests skipped")
    from playwright.sync_api import sync_playwright
    with tempfile.TemporaryDirectory(prefix="adfemu-chromium-") as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(profile, executable_path=executable,
                                                                args=CHROMIUM_ARGS, headless=True,
                                                                viewport={"width": 1280, "height": 900})
        yield context
        context.close()


@pytest.fixture
def page(browser):
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    page.close()
    assert not errors, f"the page raised: {errors}"


def distinct_pixels(png: bytes) -> int:
    """How many different byte values the image's pixel rows hold (1 or 2 for a blank page)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    data, position = b"", 8
    while position < len(png):
        length, kind = struct.unpack(">I4s", png[position:position + 8])
        if kind == b"IDAT":
            data += png[position + 8:position + 8 + length]
        position += 12 + length
    return len(set(zlib.decompress(data)))
