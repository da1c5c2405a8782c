"""Snapshots of the whole state, as files beside the journal.

A snapshot is a few hundred MB for a million orders: too big to push through the
journal's SQLite writer without stalling every commit behind it. So each one is its
own file, `<seq>.snapshot`, written under a temporary name (`<seq>.<pid>.tmp`),
fsynced and renamed, so a crash leaves either the whole file or none.

A snapshot may be promoted (renamed) only once every record it covers is durable:
otherwise a crash could leave a snapshot ahead of the journal, and a restarted server
would number different commands with the same seqs. The engine's forked child only
writes the temporary file; the serving process promotes it after its journal has
committed those records, and a server that died before that never promotes it.
`latest` still skips any snapshot ahead of the journal, as a second guard.
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
        """Store the state after `seq` (whose records are all durable) atomically."""
        self.write_pending(seq, blob)
        self.promote(seq, os.getpid())

    def write_pending(self, seq: int, blob: bytes) -> None:
        """Write and fsync the temporary file of this process's snapshot after `seq`."""
        self.dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._tmp(seq, os.getpid()), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(blob)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)

    def promote(self, seq: int, pid: int) -> None:
        """Make the snapshot written by process `pid` the one after `seq`; keep the newest."""
        os.replace(self._tmp(seq, pid), self.dir / f"{seq:020d}{SUFFIX}")
        self._sync_dir()
        for old in self.seqs()[:-self.keep]:
            (self.dir / f"{old:020d}{SUFFIX}").unlink(missing_ok=True)

    def discard_pending(self) -> None:
        """Remove temporary files that were never promoted (their writer's server died)."""
        if self.dir.is_dir():
            for p in self.dir.glob("*.tmp"):
                p.unlink(missing_ok=True)

    def _tmp(self, seq: int, pid: int) -> Path:
        return self.dir / f"{seq:020d}.{pid}.tmp"

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
