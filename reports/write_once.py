"""Writing a document's file once: an issued invoice or a receipt never changes, so a file
that exists is left exactly as it is."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_once(target: Path, render: Callable[[], bytes]) -> Path:
    """Write `render()` to `target` unless it exists, and return `target`.

    The file appears atomically (a temporary file in the same folder, then a hard link
    to the final name, which fails rather than replaces)."""
    if target.exists():
        return target
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    data = render()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        try:
            os.link(tmp, target)  # atomic, and never replaces a file that appeared meanwhile
        except FileExistsError:
            pass
        except OSError:
            # A filesystem without hard links: rename, after one more look.
            if not target.exists():
                os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
