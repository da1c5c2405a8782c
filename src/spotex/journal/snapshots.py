"""Snapshots of the whole state, as files beside the journal.

A snapshot is a few hundred MB for a million orders: too big to push through the
journal's SQLite writer without stalling every commit behind it. So each one is its
own file, `<seq>.snapshot`, written to a temporary name, fsynced and renamed, so a
crash leaves either the whole file or none. `write` may run in any process (the
engine writes periodic snapshots from a forked child); nothing here holds state
between calls.

A snapshot is only usable once every record it covers is durable: `latest` takes
the newest one whose seq is at most the journal's last committed seq.
"""
from __future__ import annotations

import os
from pathlib import Path

SUFFIX = ".snapshot"
KEEP = 2  # the newest two: the older one still serves if the newest is ahead of the journal


class SnapshotFiles:
    def __init__(self, directory: str | os.PathLike[str], keep: int = KEEP) -> None:
        self.dir = Path(directory)
        self.keep = keep

    def write(self, seq: int, blob: bytes) -> None:
        """Store the state after `seq` atomically, then drop all but the newest `keep`."""
        self.dir.mkdir(parents=True, exist_ok=True)
        final = self.dir / f"{seq:020d}{SUFFIX}"
        tmp = self.dir / f"{seq:020d}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(blob)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, final)
        self._sync_dir()
        for old in self.seqs()[:-self.keep]:
            (self.dir / f"{old:020d}{SUFFIX}").unlink(missing_ok=True)

    def latest(self, max_seq: int) -> tuple[int, bytes] | None:
        """(seq, blob) of the newest snapshot with seq <= max_seq, or None."""
        usable = [s for s in self.seqs() if s <= max_seq]
        if not usable:
            return None
        seq = usable[-1]
        return seq, (self.dir / f"{seq:020d}{SUFFIX}").read_bytes()

    def seqs(self) -> list[int]:
        """The stored snapshots' seqs, oldest first (leftover temporary files ignored)."""
        if not self.dir.is_dir():
            return []
        return sorted(int(p.name[:-len(SUFFIX)]) for p in self.dir.iterdir()
                      if p.name.endswith(SUFFIX) and p.name[:-len(SUFFIX)].isdigit())

    def _sync_dir(self) -> None:
        fd = os.open(self.dir, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
