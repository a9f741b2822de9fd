"""Safe writes: temporary file in the same folder, fsync, atomic replace; and a repository lock."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from stdkit.errors import RefusedError, StdkitError

CACHE_DIR = ".stdkit-cache"


def write_atomic(path: Path, data: str | bytes, *, overwrite: bool = True) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes 0600 files; give the file the mode a plain open() would (or keep the
        # mode of the file it replaces), so published sites and drafts stay readable.
        try:
            mode = path.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # fails if path exists: no overwrite, even in a race
            except FileExistsError:
                raise RefusedError(f"{path} already exists; nothing was written") from None
            os.unlink(tmp)
        _fsync_dir(path.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def publish_dir(staging: Path, target: Path) -> None:
    """Move a fully written folder into place; refuses if ``target`` exists and is not empty."""
    try:
        os.rename(staging, target)
    except OSError as exc:
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
            raise RefusedError(f"{target} already exists; nothing was written") from None
        raise
    _fsync_dir(target.parent)


@contextlib.contextmanager
def repository_lock(root: Path, *, wait: float = 10.0) -> Iterator[None]:
    """Hold the repository's write lock; a clear "busy" error if another run keeps it."""
    path = root / CACHE_DIR / "lock"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StdkitError(f"cannot create the lock file {path}: {exc.strerror}") from exc
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StdkitError(
                        f"busy: another stdkit command is writing in {root}; try again when it"
                        " has finished"
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)
