"""Restart time from a journal of N order commands (default 1,000,000): the engine rebuilt
from the journal alone, and from the latest snapshot plus the journal tail after it (what
a server that snapshots every 100,000 commands does).

    python bench/restart.py [--orders 1000000]
"""
from __future__ import annotations

import argparse
import asyncio
import pickle
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from core import Workload, exchange  # noqa: E402

from spotex import config  # noqa: E402
from spotex.core.errors import ApiError  # noqa: E402
from spotex.engine import Engine  # noqa: E402
from spotex.journal import SqliteJournal  # noqa: E402
from common import bench_config  # noqa: E402


class Recorder(Workload):
    """The core benchmark's order mix, keeping every accepted command."""

    def __init__(self, *a, **kw) -> None:
        super().__init__(*a, **kw)
        self.log: list[bytes] = []

    def cmd(self, **c):
        self.ts += 1
        c["ts"] = self.ts
        try:
            r = self.ex.apply(c)
        except ApiError:
            return None
        self.log.append(orjson.dumps(c))
        return r


def build_journal(path: Path, cfg_path: str, orders: int) -> tuple[float, int]:
    """Write a journal of `orders` accepted order commands (accounts first), with a
    snapshot taken `snapshot_every` commands before the end, as a running server would."""
    ex = exchange()  # same accounts as bench/core.py (created without the journal)
    w = Recorder(ex, 10_000)
    cfg = config.load(cfg_path)
    engine = Engine(cfg, SqliteJournal(str(path)))
    setup = [orjson.dumps({"t": "account.create", "ts": 0, "balances": {
        "USDT": 10_000_000_000 * 10**8, "BTC": 10_000_000 * 10**8},
        "key": {"api_key": f"k{i}", "key_type": "HMAC_SHA256", "secret": "s"}}) for i in range(16)]
    t0 = time.perf_counter()
    while len(w.log) < orders:
        w.step()
    gen = time.perf_counter() - t0
    records = setup + w.log[:orders]
    db = sqlite3.connect(str(path))
    db.execute("CREATE TABLE IF NOT EXISTS journal(seq INTEGER PRIMARY KEY, rec BLOB NOT NULL)")
    db.executemany("INSERT INTO journal VALUES (?, ?)", enumerate(records, 1))
    db.commit()
    # the snapshot a running server would have: the state after all but the last tail
    snap_seq = len(records) - cfg.snapshot_every
    engine.journal.open()
    replay = Engine(cfg, SqliteJournal(str(path)))
    replay.journal.open()
    ex2 = replay.exchange
    for seq, rec in replay.journal.replay(0):
        if seq > snap_seq:
            break
        ex2.apply(orjson.loads(rec))
        ex2.seq = seq
    db.close()
    t0 = time.perf_counter()
    blob = pickle.dumps((engine.config_hash, ex2, {}), protocol=pickle.HIGHEST_PROTOCOL)
    engine.journal.snapshots.write(snap_seq, blob)
    print(f"snapshot of {snap_seq:,} commands: {time.perf_counter() - t0:.1f} s to pickle and "
          f"write {len(blob) / 1e6:.0f} MB inline")
    print(f"the same snapshot from a forked child: the serving process paused "
          f"{asyncio.run(background_snapshot(replay)) * 1000:.0f} ms")
    return gen, len(records)


async def background_snapshot(engine: Engine) -> float:
    """What a running server does every `snapshot_every` commands: the loop pauses to fork."""
    t0 = time.perf_counter()
    engine.snapshot_in_background()
    pause = time.perf_counter() - t0
    await engine.wait_snapshot()
    await engine.journal.close()
    return pause


def timed_recover(path: Path, cfg_path: str, use_snapshot: bool) -> tuple[float, int]:
    cfg = config.load(cfg_path)
    journal = SqliteJournal(str(path))
    journal.open()
    if not use_snapshot:
        journal.load_snapshot = lambda: None  # type: ignore[method-assign]
    engine = Engine(cfg, journal)
    t0 = time.perf_counter()
    replayed = engine.recover()
    return time.perf_counter() - t0, replayed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=1_000_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        cfg_path = str(bench_config(Path(d) / "bench.toml"))
        path = Path(d) / "journal.sqlite"
        gen, n = build_journal(path, cfg_path, args.orders)
        print(f"journal: {n:,} records ({path.stat().st_size / 1e6:,.0f} MB), generated in {gen:.1f} s")
        full, replayed = timed_recover(path, cfg_path, use_snapshot=False)
        print(f"restart from the journal alone: {full:.1f} s ({replayed:,} commands replayed, "
              f"{replayed / full:,.0f}/s)")
        snap, tail = timed_recover(path, cfg_path, use_snapshot=True)
        print(f"restart from snapshot + tail: {snap:.1f} s ({tail:,} commands replayed)")
    print(f"command: python bench/restart.py --orders {args.orders}")
    print(f"restart_s: snapshot+tail {snap:.1f}  journal_only {full:.1f}  orders {args.orders}")


if __name__ == "__main__":
    main()
