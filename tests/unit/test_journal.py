"""SqliteJournal: ordering, group commit, durability before acknowledgement, snapshots, recovery."""
from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from contextlib import closing
from pathlib import Path

import pytest

import spotex
from spotex.journal import SqliteJournal


def _open(path: Path) -> SqliteJournal:
    j = SqliteJournal(str(path))
    j.open()
    return j


def _stored(path: Path) -> list[tuple[int, bytes]]:
    """Read the journal through an independent connection, as a restarted process would."""
    with closing(sqlite3.connect(path)) as c:
        return [(s, bytes(r)) for s, r in c.execute("SELECT seq, rec FROM journal ORDER BY seq")]


async def test_empty_journal(tmp_path: Path) -> None:
    j = _open(tmp_path / "j.sqlite")
    assert j.last_seq() == 0
    assert j.load_snapshot() is None
    assert list(j.replay(0)) == []
    await j.flush()  # nothing pending: returns at once
    await j.close()


async def test_pragmas(tmp_path: Path) -> None:
    j = _open(tmp_path / "j.sqlite")
    assert j._db().execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert j._db().execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    await j.close()


async def test_concurrent_submit_seqs_follow_call_order(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    j = _open(path)
    calls: list[bytes] = []

    async def worker(w: int) -> list[tuple[int, bytes]]:
        out = []
        for i in range(20):
            rec = f"w{w}-{i}".encode()
            calls.append(rec)
            fut = j.submit(rec)
            out.append((await fut, rec))
            if i % 3 == 0:
                await asyncio.sleep(0)  # interleave workers differently
        return out

    results = await asyncio.gather(*(worker(w) for w in range(50)))
    got = sorted(pair for res in results for pair in res)
    # seqs are 1..N with no gaps, and seq k is the k-th submit call
    assert [s for s, _ in got] == list(range(1, len(calls) + 1))
    assert [r for _, r in got] == calls
    assert _stored(path) == got
    assert j.last_seq() == len(calls)
    assert j.stats["records"] == len(calls)
    await j.close()


async def test_future_resolves_only_after_commit(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    j = _open(path)
    probe = sqlite3.connect(path)  # independent reader sees only committed data
    seen: list[tuple[int, bool]] = []

    def check(f: asyncio.Future[int]) -> None:
        seq = f.result()
        row = probe.execute("SELECT 1 FROM journal WHERE seq = ?", (seq,)).fetchone()
        seen.append((seq, row is not None))

    futs = []
    for i in range(30):
        f = j.submit(b"r%d" % i)
        assert not f.done()  # never acknowledged synchronously
        f.add_done_callback(check)
        futs.append(f)
    assert probe.execute("SELECT COUNT(*) FROM journal").fetchone()[0] == 0
    assert await asyncio.gather(*futs) == list(range(1, 31))
    await asyncio.sleep(0)  # let done-callbacks run
    assert len(seen) == 30 and all(ok for _, ok in seen)
    probe.close()
    await j.close()


async def test_group_commit_batches_many_submitters(tmp_path: Path) -> None:
    j = _open(tmp_path / "j.sqlite")

    async def client(c: int) -> None:
        for i in range(5):  # each client waits for its ack before the next request
            await j.submit(f"{c}:{i}".encode())

    await asyncio.gather(*(client(c) for c in range(200)))
    assert j.stats["records"] == 1000
    # one fsync per wave of requests, not per request
    assert j.stats["commits"] <= 50, j.stats
    await j.close()


async def test_same_iteration_submits_share_one_commit(tmp_path: Path) -> None:
    j = _open(tmp_path / "j.sqlite")
    futs = [j.submit(b"x") for _ in range(200)]
    await asyncio.gather(*futs)
    assert j.stats == {"records": 200, "commits": 1}
    await j.close()


async def test_reopen_and_replay(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    j = _open(path)
    recs = [os.urandom(i % 50 + 1) for i in range(2500)]  # > one fetchmany chunk
    await asyncio.gather(*(j.submit(r) for r in recs))
    await j.close()

    j2 = _open(path)
    assert j2.last_seq() == 2500
    assert list(j2.replay(0)) == list(enumerate(recs, 1))
    assert list(j2.replay(2400)) == list(enumerate(recs, 1))[2400:]
    # numbering continues after the stored records
    assert await j2.submit(b"next") == 2501
    await j2.close()


async def test_replay_is_streamed(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    j = _open(path)
    await asyncio.gather(*(j.submit(b"r") for _ in range(3000)))
    it = j.replay(0)
    assert next(it) == (1, b"r")  # a generator, not a materialized list
    assert sum(1 for _ in it) == 2999
    await j.close()


async def test_snapshot_save_load_and_replay_after(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    j = _open(path)
    for i in range(10):
        j.submit(b"a%d" % i)
    snap = j.save_snapshot(10, b"state@10")  # queued behind records 1..10
    for i in range(5):
        j.submit(b"b%d" % i)
    assert await snap is None
    await j.close()

    j2 = _open(path)
    assert j2.load_snapshot() == (10, b"state@10")
    assert list(j2.replay(10)) == [(11 + i, b"b%d" % i) for i in range(5)]
    await j2.close()


async def test_snapshot_lands_with_its_records(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    j = _open(path)
    j.submit(b"1")
    j.submit(b"2")
    await j.save_snapshot(2, b"s2")
    # the snapshot is never visible without the records it covers
    assert [s for s, _ in _stored(path)] == [1, 2]
    with pytest.raises(ValueError):
        j.save_snapshot(3, b"future")
    await j.close()


async def test_keeps_only_two_snapshots(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    j = _open(path)
    for n in range(1, 6):
        j.submit(b"r")
        await j.save_snapshot(n, b"s%d" % n)
    await j.close()
    assert j.snapshots.seqs() == [4, 5]
    tag = j.snapshots.tag
    assert len(tag) == 16
    assert sorted(p.name for p in j.snapshots.dir.iterdir()) == [
        f"{tag}.00000000000000000004.snapshot", f"{tag}.00000000000000000005.snapshot"]
    j2 = _open(path)
    assert j2.load_snapshot() == (5, b"s5")
    await j2.close()


async def _closed_with_snapshot(path: Path, records: int, blob: bytes) -> SqliteJournal:
    """A journal of `records` records and a snapshot after the last, closed."""
    j = _open(path)
    for _ in range(records):
        j.submit(b"r")
    await j.save_snapshot(records, blob)
    await j.close()
    return j


async def test_snapshot_ahead_of_the_journal_is_not_used(tmp_path: Path) -> None:
    """A snapshot written (by a background child) before the records it covers were
    committed, and those records then lost: recovery falls back to the older one."""
    path = tmp_path / "j.sqlite"
    j = await _closed_with_snapshot(path, 3, b"s3")
    j.snapshots.write(7, b"s7")  # covers records 4..7, which never reached the journal
    j.snapshots.pending(9, 123).write_bytes(b"half")  # a crash mid-write
    j2 = _open(path)
    assert j2.load_snapshot() == (3, b"s3")
    for _ in range(4):
        j2.submit(b"r")
    await j2.flush()
    assert j2.load_snapshot() == (7, b"s7")  # now every record it covers is stored
    await j2.close()


async def test_snapshots_of_another_journal_are_not_used(tmp_path: Path) -> None:
    """The journal file deleted or replaced, its snapshot folder left: a new journal with
    as many records must not load the old history's state."""
    path = tmp_path / "j.sqlite"
    j = await _closed_with_snapshot(path, 3, b"old state")
    for p in tmp_path.glob("j.sqlite*"):
        if p.is_file():
            p.unlink()
    j2 = _open(path)
    for _ in range(5):
        j2.submit(b"new")
    await j2.flush()
    assert j2.snapshots.tag != j.snapshots.tag
    assert j2.load_snapshot() is None
    await j2.close()
    assert list(j2.snapshots.dir.iterdir()) == []  # dropped at open


async def test_close_flushes(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    j = _open(path)
    futs = [j.submit(b"%d" % i) for i in range(100)]
    await j.close()  # never awaited the futures
    assert all(f.done() for f in futs)
    assert len(_stored(path)) == 100
    with pytest.raises(RuntimeError):
        j.submit(b"after close")


async def test_flush_waits_for_in_flight_and_pending(tmp_path: Path) -> None:
    j = _open(tmp_path / "j.sqlite")
    first = [j.submit(b"a") for _ in range(10)]
    await asyncio.sleep(0)  # first batch is now in flight
    second = [j.submit(b"b") for _ in range(10)]
    await j.flush()
    assert all(f.done() for f in first + second)
    await j.close()


async def test_commit_failure_breaks_journal(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    j = _open(path)
    # Another writer steals seq 1, so our first commit violates the primary key.
    with closing(sqlite3.connect(path)) as c, c:
        c.execute("INSERT INTO journal(seq, rec) VALUES (1, x'00')")
    futs = [j.submit(b"x") for _ in range(3)]
    await asyncio.sleep(0)
    futs.append(j.submit(b"y"))  # queued behind the failing batch
    for f in futs:
        with pytest.raises(sqlite3.IntegrityError):
            await f
    with pytest.raises(RuntimeError):
        j.submit(b"z")
    assert _stored(path) == [(1, b"\x00")]  # the failed batch was rolled back
    await j.close()  # a broken journal closes without trying to store more


async def test_repair_continues_after_the_last_stored_record(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    j = _open(path)
    with closing(sqlite3.connect(path)) as c, c:
        c.execute("INSERT INTO journal(seq, rec) VALUES (1, x'00')")
    with pytest.raises(sqlite3.IntegrityError):
        await j.submit(b"x")
    await j.repair()
    assert await j.submit(b"y") == 2
    await j.close()
    assert _stored(path) == [(1, b"\x00"), (2, b"y")]


def test_works_under_uvloop(tmp_path: Path) -> None:
    uvloop = pytest.importorskip("uvloop")
    j = _open(tmp_path / "j.sqlite")

    async def main() -> list[int]:
        seqs = await asyncio.gather(*(j.submit(b"u") for _ in range(500)))
        await j.close()
        return list(seqs)

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        assert runner.run(main()) == list(range(1, 501))


_CHILD = textwrap.dedent("""
    import asyncio, sys
    from spotex.journal import SqliteJournal

    async def main():
        j = SqliteJournal(sys.argv[1])
        j.open()
        async def client(c):
            while True:
                seq = await j.submit(b"c%d" % c)
                print(seq, c, flush=True)   # acknowledged => must survive a crash
        await asyncio.gather(*(client(c) for c in range(20)))

    asyncio.run(main())
""")


def test_acknowledged_records_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    src = str(Path(spotex.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))}
    acked: dict[int, bytes] = {}
    with subprocess.Popen([sys.executable, "-c", _CHILD, str(path)], stdout=subprocess.PIPE, env=env) as proc:
        try:
            assert proc.stdout is not None
            while len(acked) < 2000:
                line = proc.stdout.readline()
                assert line.endswith(b"\n"), f"child died early: {line!r}"
                seq, c = line.split()
                acked[int(seq)] = b"c" + c
            proc.send_signal(signal.SIGKILL)  # no chance to flush or close anything
        finally:
            proc.kill()

    stored = dict(_stored(path))
    missing = [s for s in acked if stored.get(s) != acked[s]]
    assert not missing, f"{len(missing)} acknowledged records lost, e.g. {missing[:5]}"
    # and recovery sees a gap-free prefix
    assert sorted(stored) == list(range(1, len(stored) + 1))
