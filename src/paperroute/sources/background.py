"""Parse in a second process while this one writes to the database.

On a bulk import the parser (JSON decoding, validation) and the database writer (the
keyword index) each need most of a core; running them in two processes overlaps them.
Records cross the process boundary in pickled chunks through a bounded queue, so memory
stays bounded whatever the file size.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import PaperrouteError, SourceError
from ..model import ParseItem

_CHUNK = 1000
_DEPTH = 8  # chunks in flight: ~8,000 records, a few MB
_POLL = 1.0


def _produce(
    parse: Callable[[Path], Iterator[ParseItem]], path: Path, out: Any
) -> None:  # pragma: no cover - runs in the child process
    # Ctrl-C reaches the whole process group: the parent reports it and stops this process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    chunk: list[ParseItem] = []
    try:
        for item in parse(path):
            chunk.append(item)
            if len(chunk) >= _CHUNK:
                out.put(("items", chunk))
                chunk = []
    except PaperrouteError as exc:  # already a message for the user
        failure: str | None = str(exc) or f"cannot read {path}: {exc.__class__.__name__}"
    except Exception as exc:  # any other failure is reported to the parent, which raises it
        failure = f"cannot read {path}: {exc.__class__.__name__}: {exc}"
    else:
        failure = None
    # What was parsed before a failure is still good: send it first.
    out.put(("items", chunk))
    out.put(("error", failure) if failure is not None else ("done", None))


def parse_in_background(
    parse: Callable[[Path], Iterator[ParseItem]], path: Path
) -> Iterator[ParseItem]:
    """The items of ``parse(path)``, computed in a child process. ``parse`` must be a
    module-level function (it is pickled). Raises SourceError if the child fails."""
    context = mp.get_context("spawn")
    channel: Any = context.Queue(maxsize=_DEPTH)
    process = context.Process(target=_produce, args=(parse, path, channel), daemon=True)
    process.start()
    try:
        while True:
            try:
                kind, payload = channel.get(timeout=_POLL)
            except queue.Empty:
                if not process.is_alive():
                    raise SourceError(
                        f"the parser of {path} stopped (exit code {process.exitcode})"
                    ) from None
                continue
            if kind == "items":
                yield from payload
            elif kind == "error":
                raise SourceError(payload)
            else:
                return
    finally:
        if process.is_alive():
            process.terminate()
        process.join(timeout=5)
        channel.close()
