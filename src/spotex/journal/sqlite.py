"""SQLite command journal with group commit.

Every accepted command must be durable before its response is sent, but an
fsync per request would cap throughput at the disk's sync rate. So records are
queued in memory and one writer thread commits *all* pending records in a
single transaction; a new flush starts as soon as the previous one finishes,
which batches naturally under load and adds no latency when idle.

Threading: `submit`, `save_snapshot`, `flush` and `close` run on the event
loop thread; after `open` the connection is used only by the writer thread
(`open`, `last_seq`, `load_snapshot` and `replay` run before serving starts).

Snapshots are files in `<path>.snapshots/` (see snapshots.py), not rows: a queued
snapshot is written by the writer thread after the records it covers are committed.
"""
from __future__ import annotations

import asyncio
import contextlib
import secrets
import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from .snapshots import SnapshotFiles

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS journal(seq INTEGER PRIMARY KEY, rec BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)
_REPLAY_CHUNK = 1000


class SqliteJournal:
    """Append-only journal of opaque records, numbered 1, 2, 3... in submit order."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.snapshots = SnapshotFiles(path + ".snapshots")
        self.stats: dict[str, int] = {"records": 0, "commits": 0}
        self._conn: sqlite3.Connection | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._seq = 0  # last seq handed out
        # Pending work for the next flush. Records and their futures are kept in
        # parallel lists so executemany takes `_recs` as is.
        self._recs: list[tuple[int, bytes]] = []
        self._rec_futs: list[asyncio.Future[int]] = []
        self._snaps: list[tuple[int, bytes]] = []
        self._snap_futs: list[asyncio.Future[None]] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._busy = False  # a flush is scheduled or in flight
        self._error: BaseException | None = None
        self._closed = False
        # observer (metrics): called on the loop thread after each committed batch
        # with (records in it, seconds its transaction took)
        self.on_commit: Callable[[int, float], None] | None = None
        # called on the loop thread the moment a commit fails, before its futures fail
        self.on_failure: Callable[[BaseException], None] | None = None

    # -- startup (main thread, before serving) ---------------------------------

    def open(self) -> None:
        """Connect, create tables, and continue numbering after the last stored seq."""
        conn = self._connect()
        self._conn = conn
        self._seq = self.last_seq()
        self.snapshots.tag = self._journal_id(conn)
        self.snapshots.discard_pending()

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, one per batch.
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")  # fsync the WAL on every commit
        for ddl in _SCHEMA:
            conn.execute(ddl)
        return conn

    async def settle(self) -> None:
        """Wait until nothing is in flight: a batch either committed or failed."""
        if self._error is None:
            await self.flush()

    async def repair(self) -> None:
        """After a failed commit, reconnect and prove that a write commits again (raises
        while it does not). Nothing of the failed batches was stored: numbering
        continues after the last stored record."""
        if self._error is None:
            return
        loop = self._loop or self._bind_loop()
        await loop.run_in_executor(self._executor, self._reconnect)
        self._error = None

    def _reconnect(self) -> None:
        """Writer thread: a new connection and a probe write in the meta table."""
        old, self._conn = self._conn, None
        if old is not None:
            with contextlib.suppress(sqlite3.Error):
                old.close()
        conn = self._connect()
        self._commit(conn, "INSERT OR REPLACE INTO meta VALUES ('probe', ?)",
                     [(str(time.time_ns()),)])
        self._conn = conn
        self._seq = self.last_seq()

    @staticmethod
    def _journal_id(conn: sqlite3.Connection) -> str:
        """This journal's random id, made when it is created (names its snapshots)."""
        conn.execute("INSERT OR IGNORE INTO meta VALUES ('journal_id', ?)",
                     (secrets.token_hex(8),))
        return conn.execute("SELECT value FROM meta WHERE key = 'journal_id'").fetchone()[0]

    @property
    def seq(self) -> int:
        """The last seq handed out by `submit` (durable or not yet)."""
        return self._seq

    def last_seq(self) -> int:
        """Highest seq stored, 0 for an empty journal."""
        row = self._db().execute("SELECT MAX(seq) FROM journal").fetchone()
        return int(row[0] or 0)

    def load_snapshot(self) -> tuple[int, bytes] | None:
        """Latest snapshot whose records are all stored, as (seq, blob); None if none."""
        return self.snapshots.latest(self.last_seq())

    def replay(self, after_seq: int) -> Iterator[tuple[int, bytes]]:
        """Records with seq > after_seq in ascending order, streamed in chunks to bound memory."""
        cur = self._db().execute("SELECT seq, rec FROM journal WHERE seq > ? ORDER BY seq", (after_seq,))
        try:
            while rows := cur.fetchmany(_REPLAY_CHUNK):
                yield from rows
        finally:
            cur.close()

    def append(self, record: bytes) -> int:
        """Commit one record now, before serving starts (the config of a start-up);
        returns its seq."""
        self._check_usable()
        seq = self._seq + 1
        self._executor.submit(self._write, [(seq, record)], []).result()
        self._seq = seq
        return seq

    # -- serving (event loop thread) -------------------------------------------

    def submit(self, record: bytes) -> asyncio.Future[int]:
        """Assign the next seq now (call order == journal order) and queue the record.

        The returned future resolves with the seq once the record is committed.
        """
        self._check_usable()
        loop = self._loop or self._bind_loop()
        self._seq += 1
        fut: asyncio.Future[int] = loop.create_future()
        self._recs.append((self._seq, record))
        self._rec_futs.append(fut)
        if not self._busy:
            self._kick(loop)
        return fut

    def save_snapshot(self, seq: int, blob: bytes) -> asyncio.Future[None]:
        """Queue a snapshot of the state after `seq`; it commits together with (or after)
        every record <= seq, so a loaded snapshot never refers to a missing record."""
        self._check_usable()
        if not 0 <= seq <= self._seq:
            raise ValueError(f"snapshot seq {seq} is beyond the last submitted seq {self._seq}")
        loop = self._loop or self._bind_loop()
        fut: asyncio.Future[None] = loop.create_future()
        self._snaps.append((seq, blob))
        self._snap_futs.append(fut)
        if not self._busy:
            self._kick(loop)
        return fut

    async def flush(self) -> None:
        """Wait until everything submitted so far is durable (raises if the journal broke)."""
        if self._error is not None:
            raise RuntimeError("journal is broken") from self._error
        if not self._busy:
            return  # nothing pending and nothing in flight
        loop = self._loop or self._bind_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters.append(waiter)  # resolved by the batch after everything already queued
        await waiter

    async def close(self) -> None:
        """Flush, then close the connection and stop the writer thread."""
        if self._closed:
            return
        try:
            if self._error is None:  # a failed journal has nothing more to store
                await self.flush()
        finally:
            self._closed = True
            conn, self._conn = self._conn, None
            if conn is not None:
                await asyncio.get_running_loop().run_in_executor(self._executor, conn.close)
            self._executor.shutdown(wait=True)

    # -- internals ---------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("journal is not open")
        return self._conn

    def _check_usable(self) -> None:
        if self._error is not None:
            raise RuntimeError("journal is broken") from self._error
        if self._closed or self._conn is None:
            raise RuntimeError("journal is not open")

    def _bind_loop(self) -> asyncio.AbstractEventLoop:
        self._loop = asyncio.get_running_loop()
        return self._loop

    def _kick(self, loop: asyncio.AbstractEventLoop) -> None:
        # call_soon rather than flushing inline: every submit made in this loop
        # iteration joins the same batch.
        self._busy = True
        loop.call_soon(self._flush)

    def _flush(self) -> None:
        """Hand all pending work to the writer thread, or go idle if there is none."""
        if self._error is not None:
            self._busy = False
            return
        recs, rec_futs, snaps, snap_futs, waiters = (
            self._recs, self._rec_futs, self._snaps, self._snap_futs, self._waiters)
        if not (recs or snaps or waiters):
            self._busy = False
            return
        self._recs, self._rec_futs, self._snaps, self._snap_futs, self._waiters = [], [], [], [], []
        assert self._loop is not None
        done = self._loop.run_in_executor(self._executor, self._write, recs, snaps)

        def on_done(f: asyncio.Future[float]) -> None:
            self._batch_done(f, recs, rec_futs, snaps, snap_futs, waiters)

        done.add_done_callback(on_done)

    def _write(self, recs: list[tuple[int, bytes]], snaps: list[tuple[int, bytes]]) -> float:
        """Writer thread: commit the batch's records in one transaction (one fsync),
        then write its snapshots, which cover only records committed by now. Returns the
        seconds the transaction took."""
        started = time.perf_counter()
        if recs:
            self._commit(self._db(), "INSERT INTO journal(seq, rec) VALUES (?, ?)", recs)
        took = time.perf_counter() - started
        for seq, blob in snaps:
            self.snapshots.write(seq, blob)
        return took

    @staticmethod
    def _commit(conn: sqlite3.Connection, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """One transaction (one fsync); rolled back whole if any part fails."""
        try:
            conn.execute("BEGIN")
            conn.executemany(sql, rows)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            raise

    def _batch_done(
        self,
        done: asyncio.Future[float],
        recs: list[tuple[int, bytes]],
        rec_futs: list[asyncio.Future[int]],
        snaps: list[tuple[int, bytes]],
        snap_futs: list[asyncio.Future[None]],
        waiters: list[asyncio.Future[None]],
    ) -> None:
        """Loop thread: resolve the batch's futures, then start the next flush at once."""
        exc = done.exception() if not done.cancelled() else asyncio.CancelledError()
        if exc is not None:
            self._fail(exc, [*rec_futs, *snap_futs, *waiters])
            return
        if recs or snaps:
            self.stats["commits"] += 1
            self.stats["records"] += len(recs)
        if recs and self.on_commit is not None:
            self.on_commit(len(recs), done.result())
        for (seq, _), f in zip(recs, rec_futs):
            if not f.done():  # the caller may have cancelled its wait
                f.set_result(seq)
        for f in (*snap_futs, *waiters):
            if not f.done():
                f.set_result(None)
        self._flush()

    def _fail(self, exc: BaseException, futs: list[asyncio.Future[Any]]) -> None:
        """A commit failed: nothing after it may be acknowledged, so fail everything."""
        self._error = exc
        self._busy = False
        if self.on_failure is not None:
            self.on_failure(exc)
        pending = [*futs, *self._rec_futs, *self._snap_futs, *self._waiters]
        self._recs, self._rec_futs, self._snaps, self._snap_futs, self._waiters = [], [], [], [], []
        for f in pending:
            if not f.done():
                f.set_exception(exc)
