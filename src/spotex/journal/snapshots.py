"""Snapshots of the whole state, as files beside the journal.

A snapshot is a few hundred MB for a million orders: too big to push through the
journal's SQLite writer without stalling every commit behind it. So each one is its
own file, `<journal id>.<seq>.snapshot`, written under a temporary name
(`<journal id>.<seq>.<pid>.tmp`), fsynced and renamed, so a crash leaves either the
whole file or none.

A snapshot may be promoted (renamed) only once every record it covers is durable:
otherwise a crash could leave a snapshot ahead of the journal, and a restarted server
would number different commands with the same seqs. The engine's forked child only
writes the temporary file; the serving process promotes it after its journal has
committed those records, and a server that died before that never promotes it.
`latest` still skips any snapshot ahead of the journal, as a second guard.

The journal id (made when the journal is created) keeps the snapshots of a journal
that was deleted or replaced from ever being taken for this one's.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO, Callable

SUFFIX = ".snapshot"
KEEP = 2  # the newest two: the older one still serves if the newest is ahead of the journal


class SnapshotFiles:
    def __init__(self, directory: str | os.PathLike[str], tag: str = "", keep: int = KEEP) -> None:
        self.dir = Path(directory)
        self.tag = tag  # the journal's id
        self.keep = keep

    def write(self, seq: int, blob: bytes) -> None:
        """Store the state after `seq` (whose records are all durable) atomically."""
        self.write_pending(seq, lambda f: f.write(blob))
        self.promote(seq, os.getpid())

    def write_pending(self, seq: int, dump: Callable[[BinaryIO], object]) -> None:
        """Write (with `dump`) and fsync this process's temporary file for `seq`."""
        self.dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.pending(seq, os.getpid()), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(fd, "wb", buffering=1 << 20) as f:
            dump(f)
            f.flush()
            os.fsync(fd)

    def promote(self, seq: int, pid: int) -> None:
        """Make the snapshot written by process `pid` the one after `seq`; keep the newest."""
        os.replace(self.pending(seq, pid), self._final(seq))
        self._sync_dir()
        for old in self.seqs()[:-self.keep]:
            self._final(old).unlink(missing_ok=True)

    def pending(self, seq: int, pid: int) -> Path:
        """The temporary file of process `pid`'s snapshot after `seq`."""
        return self.dir / f"{self.tag}.{seq:020d}.{pid}.tmp"

    def discard_pending(self) -> None:
        """At open: drop temporary files never promoted (their server died) and the
        snapshots of other journals."""
        if self.dir.is_dir():
            mine = set(self.seqs())
            for p in self.dir.iterdir():
                if p.name.endswith(".tmp") or self._seq_of(p.name) not in mine:
                    p.unlink(missing_ok=True)

    def latest(self, max_seq: int) -> tuple[int, bytes] | None:
        """(seq, blob) of the newest snapshot with seq <= max_seq, or None."""
        usable = [s for s in self.seqs() if s <= max_seq]
        if not usable:
            return None
        return usable[-1], self._final(usable[-1]).read_bytes()

    def seqs(self) -> list[int]:
        """This journal's stored snapshots' seqs, oldest first."""
        if not self.dir.is_dir():
            return []
        return sorted(s for s in (self._seq_of(p.name) for p in self.dir.iterdir())
                      if s is not None)

    def _final(self, seq: int) -> Path:
        return self.dir / f"{self.tag}.{seq:020d}{SUFFIX}"

    def _seq_of(self, name: str) -> int | None:
        """The seq in one of this journal's snapshot names, else None."""
        prefix = self.tag + "."
        if not (name.startswith(prefix) and name.endswith(SUFFIX)):
            return None
        digits = name[len(prefix):-len(SUFFIX)]
        return int(digits) if digits.isdigit() else None

    def _sync_dir(self) -> None:
        fd = os.open(self.dir, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
