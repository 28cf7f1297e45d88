"""What run records may show of a request body: account keys and SAS signatures masked."""
from __future__ import annotations

import json
import re


def masked(body: dict) -> dict:
    text = json.dumps(body)
    text = re.sub(r"(AccountKey=)[^;\"]+", r"\1***", text)
    text = re.sub(r"(sig=)[^&\"]+", r"\1***", text)
    return json.loads(text)
