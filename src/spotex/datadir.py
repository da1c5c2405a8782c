"""The data folder: one server at a time (an OS lock), private to its owner (0700 / 0600).

The lock is `fcntl.flock` on `<folder>/lock`, which holds the PID of the server that took
it. The OS drops it when that process ends however it ends (`kill -9` included), so a
restart never has to clean anything up. The forked snapshot child closes its copy of the
descriptor (engine._close_inherited), which leaves the server's lock in place.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import time
from pathlib import Path

LOCK_FILE = "lock"
JOURNAL_FILE = "journal.sqlite"
SNAPSHOTS_DIR = JOURNAL_FILE + ".snapshots"
DEMO_FILE = "demo-account.json"  # the demo account's keys
TOKEN_FILE = "admin-token"  # the generated admin token
FILE_MODE = 0o600
DIR_MODE = 0o700
# what spotex writes in the folder besides the journal's own files (journal.sqlite-wal...)
OWN_FILES = frozenset({LOCK_FILE, JOURNAL_FILE, DEMO_FILE, TOKEN_FILE})


class FolderInUse(Exception):
    """Another live process holds the folder's lock."""

    def __init__(self, path: Path, pid: int | None) -> None:
        self.path, self.pid = path, pid
        held = f"PID {pid}" if pid else "PID unknown"
        super().__init__(f"data folder {path} is in use by another spotex server ({held})")


class DataLock:
    """The held lock; released by `release()` or when the process ends."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path, self.fd = path, fd

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # closing the only descriptor drops the flock
            self.fd = -1


def create(path: str | os.PathLike[str]) -> Path:
    """The folder, made 0700 if it is new (parents as `mkdir -p` makes them)."""
    folder = Path(path)
    if not folder.is_dir():
        folder.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    return folder


def create_private_file(path: Path) -> None:
    """Make `path` empty with mode 0600 unless it exists (SQLite gives its -wal and -shm
    files the mode of the database file, so a 0600 journal keeps them private too)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE))
    except FileExistsError:
        pass


def lock(folder: Path) -> DataLock:
    """Take the folder's lock and write our PID in it, or raise FolderInUse.

    The file is opened without truncating it: a server that loses the race must leave
    the holder's PID in place."""
    fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        pid = _holder(fd)
        os.close(fd)
        raise FolderInUse(folder.resolve(), pid) from None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return DataLock(folder, fd)


def _holder(fd: int) -> int | None:
    """The PID written in a held lock file (the holder may be just about to write it)."""
    for _ in range(20):
        text = os.pread(fd, 32, 0).decode(errors="replace").strip()
        if text.isdigit():
            return int(text)
        time.sleep(0.01)
    return None


def _ours(folder: Path) -> list[tuple[Path, int]]:
    """What spotex keeps in the folder, with the mode each must have. Only these are
    changed: a folder given by mistake (a home folder, ".") keeps its other files as
    they are."""
    out = []
    for entry in folder.iterdir():
        if entry.name in OWN_FILES or entry.name.startswith(JOURNAL_FILE + "-"):
            out.append((entry, FILE_MODE))
        elif entry.name == SNAPSHOTS_DIR:
            out.append((entry, DIR_MODE))
            with contextlib.suppress(OSError):
                out += [(f, FILE_MODE) for f in entry.iterdir()]
    return out


def secure(folder: Path) -> list[str]:
    """Make what spotex keeps in the folder private (files 0600, folders 0700; links are
    left alone).

    Returns warnings, one line each: the folder itself open to other users (its mode is
    the owner's choice, so it is only reported), an entry that could not be changed."""
    warnings = []
    for entry, mode in _ours(folder):
        try:
            st = os.lstat(entry)
            if not stat.S_ISLNK(st.st_mode) and stat.S_IMODE(st.st_mode) != mode:
                os.chmod(entry, mode)
        except FileNotFoundError:
            continue  # removed meanwhile (a snapshot being replaced)
        except OSError as err:
            warnings.append(f"cannot make {entry} private: {err.strerror}")
    mode = stat.S_IMODE(folder.stat().st_mode)
    if mode & 0o077:
        where = folder.resolve()
        warnings.append(f"data folder {where} is open to other users (mode {mode:04o}); "
                        f"run: chmod 700 {where}")
    return warnings
