"""The ADF side: loads and runs pipelines against Azure-shaped endpoints (next issues)."""
