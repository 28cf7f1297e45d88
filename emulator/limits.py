"""The emulator's documented limits (docs/emulator.md, "Limits"), in one place.

They bound what one client can make the emulator hold: request bodies are refused before they are read,
echoed values are cut to a prefix, and finished jobs, the journal and ARM async operations keep only their
newest entries.
"""
from __future__ import annotations

MAX_REQUEST_BYTES = 4 * 1024 * 1024  # a larger body gets 413 in the API's envelope, unread
SERVER_MAX_BODY = 64 * 1024 * 1024  # larger still: the HTTP server refuses it itself (plain-text 413)
ECHO_CHARS = 200  # a value quoted in an error message (a name, an id, a path) is cut to this many characters
MAX_FINISHED_JOBS = 1000  # Finished, Failed and Cancelled jobs kept; the oldest-ended is dropped first
MAX_JOURNAL_ENTRIES = 2000  # requests kept in the journal; the oldest is dropped first
MAX_JOURNAL_BODY = 64 * 1024  # bytes of each request body the journal keeps

# Connections (waitress; werkzeug's TLS server uses the timeout per connection)
CONNECTION_LIMIT = 1000  # open client connections at once (waitress' default, 100, let idle pools starve)
CHANNEL_TIMEOUT = 60  # seconds a connection may sit idle (or send nothing of a request) before it is closed
CLEANUP_INTERVAL = 10  # seconds between waitress' checks for idle connections
# Bodies the APIs accept (and answers of about their size) stay in memory: waitress' defaults (512 KiB in, 1 MiB
# out) spooled a 10,000-row scoring request and its answer to temporary files. Larger bodies are still spooled
# (and refused with 413); reads of 64 KiB instead of 8 KiB.
WAITRESS_BUFFERS = {"inbuf_overflow": MAX_REQUEST_BYTES, "outbuf_overflow": 2 * MAX_REQUEST_BYTES,
                    "recv_bytes": 65536}


def short(value: object, limit: int = ECHO_CHARS) -> str:
    """``value`` as text, cut to ``limit`` characters with an ellipsis and the full length when longer."""
    text = str(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text)} characters)"
