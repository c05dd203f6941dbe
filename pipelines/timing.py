"""Phase timings in milliseconds, for provenance records and task log lines."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class PhaseTimer:
    """Collects named phase durations; `timings_ms` maps phase name -> milliseconds (1 decimal)."""

    def __init__(self) -> None:
        self.timings_ms: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed_ms = (time.perf_counter() - start) * 1000.0
            self.timings_ms[name] = round(self.timings_ms.get(name, 0.0) + elapsed_ms, 1)
