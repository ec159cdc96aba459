"""Atomic file writes: a crash mid-save never destroys the previous file.

The bytes go to a temporary file in the destination's directory (same filesystem, so the final
``os.replace`` is an atomic rename), are flushed and fsync'ed, then renamed over the destination;
the directory is fsync'ed so the rename itself survives a power loss. On any error the temporary file
is removed and the destination is untouched.
"""

from __future__ import annotations

import os
import tempfile


def atomic_write_bytes(path, data: bytes | memoryview) -> None:
    """Write ``data`` to ``path`` atomically (all or nothing)."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if os.path.exists(path):
            # keep the destination's permission bits rather than mkstemp's 0600
            os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(directory)


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. platforms where directories cannot be opened
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
