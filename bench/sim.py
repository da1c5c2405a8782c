"""The living market's costs: first start, a simulated day on the manual clock, journal
growth, restart after a day, memory, and where an advance spends its time.

Every server is `spotex serve` with the built-in config (sim on, six symbols), a fresh
data folder, pinned to core 1 (as bench/common.py), logs at info to a file.

    python bench/sim.py first-start [--rounds 2]
        launch -> first 200 of GET klines?symbol=BTCUSDT&interval=1m&limit=1000, on a
        fresh folder (the 30-day history is written) and after a SIGTERM restart; the
        `sim: X history written in N s` lines.
    python bench/sim.py day [--days 2] [--chunk-ms 3600000]
        --clock manual --start 2024-03-01T00:00:00Z, then POST /admin/v1/clock/advance
        in chunks: wall time per simulated day, journal bytes in the first simulated hour,
        RSS after start / each day (and --no-sim's), restart to the first ping after the
        days (snapshot + tail) and with the snapshot files deleted (journal only).
    python bench/sim.py profile [--hours 1]
        the same advance in process (spotex.server.build with a manual Clock) under
        cProfile: the top functions by own time and by cumulative time.

Last line of each: `sim_<figure>: ...` with the figures.
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from common import ADMIN, PY, ROOT, free_port, pinned

START = "2024-03-01T00:00:00Z"
KLINES = "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1000"
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


class Serve:
    """`spotex serve` (built-in config) on a data folder that outlives it (restarts)."""

    def __init__(self, data: Path, *flags: str) -> None:
        self.data, self.flags = data, flags
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data.parent / f"{data.name}-{time.monotonic_ns()}.log"
        self.proc: subprocess.Popen | None = None
        self.launched = 0.0

    def launch(self) -> "Serve":
        cmd = [PY, "-m", "spotex.cli", "serve", "--port", str(self.port), "--data-dir",
               str(self.data), "--admin-token", ADMIN, "--log-level", "info",
               "--no-access-log", *self.flags]
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        self.launched = time.perf_counter()
        self.proc = subprocess.Popen(pinned(cmd, 1), env=env, stdout=subprocess.DEVNULL,
                                     stderr=open(self.log, "wb"))
        return self

    def wait_for(self, path: str, limit_s: float = 600) -> float:
        """Seconds from launch to the first 200 answer of `path`."""
        deadline = time.perf_counter() + limit_s
        while time.perf_counter() < deadline:
            try:
                with urllib.request.urlopen(self.url + path, timeout=limit_s) as r:
                    if r.status == 200:
                        r.read()
                        return time.perf_counter() - self.launched
            except (OSError, urllib.error.HTTPError):
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server died:\n{self.log.read_text()[-3000:]}")
                time.sleep(0.02)
        raise RuntimeError(f"no 200 from {path} in {limit_s:.0f} s")

    def stop(self) -> float:
        """SIGTERM (a final snapshot is written); seconds until the process is gone."""
        t0 = time.perf_counter()
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(300)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return time.perf_counter() - t0

    def get(self, path: str) -> object:
        return json.loads(urllib.request.urlopen(self.url + path, timeout=600).read())

    def advance(self, ms: int) -> dict:
        req = urllib.request.Request(self.url + "/admin/v1/clock/advance",
                                     data=json.dumps({"ms": ms}).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {ADMIN}",
                                              "Content-Type": "application/json"})
        return json.loads(urllib.request.urlopen(req, timeout=600).read())

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024

    def history_lines(self) -> list[tuple[str, float]]:
        return [(m.group(1), float(m.group(2))) for m in
                re.finditer(r"sim: (\S+) history written in ([\d.]+) s", self.log.read_text())]


def _range(xs: list[float], fmt: str = "{:.2f}") -> str:
    if len(xs) == 1:
        return fmt.format(xs[0])
    return (f"{fmt.format(statistics.median(xs))} (range {fmt.format(min(xs))}–"
            f"{fmt.format(max(xs))} over {len(xs)})")


# ------------------------------------------------------------------ first start
def first_start(rounds: int) -> None:
    fresh, later, history = [], [], []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory(prefix="spotex-sim-") as d:
            srv = Serve(Path(d) / "data").launch()
            try:
                fresh.append(srv.wait_for(KLINES))
                lines = srv.history_lines()
            finally:
                srv.stop()
            history.append(sum(s for _, s in lines))
            print(f"fresh folder: first klines 200 after {fresh[-1]:.2f} s; history "
                  + ", ".join(f"{n} {s:.2f} s" for n, s in lines), flush=True)
            srv = Serve(Path(d) / "data").launch()
            try:
                later.append(srv.wait_for(KLINES))
            finally:
                srv.stop()
            print(f"restart of that folder (after SIGTERM): first klines 200 after "
                  f"{later[-1]:.2f} s", flush=True)
    print(f"command: python bench/sim.py first-start --rounds {rounds}")
    verdict = "meets" if max(fresh) <= 10 else "MISSES"
    print(f"sim_first_start: fresh {_range(fresh)} s ({verdict} the 10 s target), history "
          f"{_range(history)} s of it, later start {_range(later)} s")


# ------------------------------------------------------------------ a simulated day
def _journal_bytes(data: Path) -> tuple[int, int, int]:
    """(records, sum of record bytes, bytes of journal.sqlite + -wal after a checkpoint)."""
    db = data / "journal.sqlite"
    conn = sqlite3.connect(str(db), timeout=30)
    try:
        n, size = conn.execute("SELECT count(*), coalesce(sum(length(rec)), 0) FROM journal")\
            .fetchone()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        conn.close()
    files = sum(p.stat().st_size for p in (db, Path(str(db) + "-wal")) if p.exists())
    return n, size, files


def day(days: int, chunk_ms: int, journal_only: bool = True) -> None:
    with tempfile.TemporaryDirectory(prefix="spotex-sim-") as d:
        data = Path(d) / "nosim"
        srv = Serve(data, "--no-sim").launch()
        try:
            srv.wait_for("/api/v3/ping")
            time.sleep(1)
            rss_nosim = srv.rss_mb()
        finally:
            srv.stop()
        print(f"--no-sim: RSS {rss_nosim:.0f} MB after start", flush=True)

        data = Path(d) / "data"
        srv = Serve(data, "--clock", "manual", "--start", START).launch()
        try:
            up = srv.wait_for("/api/v3/ping")
            time.sleep(1)
            rss = [srv.rss_mb()]
            print(f"manual clock, fresh folder: ping after {up:.2f} s, RSS {rss[0]:.0f} MB",
                  flush=True)
            n0, b0, f0 = _journal_bytes(data)
            t0 = time.perf_counter()
            srv.advance(HOUR_MS)
            first_hour = time.perf_counter() - t0
            n1, b1, f1 = _journal_bytes(data)
            hour = (n1 - n0, b1 - b0, f1 - f0)
            print(f"first simulated hour: {first_hour:.2f} s wall; journal +{hour[0]:,} "
                  f"records, +{hour[1] / 1e6:.2f} MB of records "
                  f"({hour[1] / max(hour[0], 1):.0f} B each), files +{hour[2] / 1e6:.2f} MB "
                  "after a checkpoint", flush=True)
            day_s, chunks = [], []
            done_ms, spent = HOUR_MS, first_hour
            for k in range(days):
                while done_ms < (k + 1) * DAY_MS:
                    ms = min(chunk_ms, (k + 1) * DAY_MS - done_ms)
                    t = time.perf_counter()
                    srv.advance(ms)
                    chunks.append((time.perf_counter() - t) * HOUR_MS / ms)
                    spent += time.perf_counter() - t
                    done_ms += ms
                day_s.append(spent)
                spent = 0.0
                rss.append(srv.rss_mb())
                print(f"simulated day {k + 1}: {day_s[-1]:.1f} s wall "
                      f"({DAY_MS / 1000 / day_s[-1]:,.0f}x real time), RSS {rss[-1]:.0f} MB",
                      flush=True)
            n2, b2, f2 = _journal_bytes(data)
            print(f"journal after {days} simulated days: {n2:,} records, {b2 / 1e6:.1f} MB of "
                  f"records, files {f2 / 1e6:.1f} MB", flush=True)
        finally:
            stop_s = srv.stop()
        print(f"SIGTERM to exit (final snapshot): {stop_s:.2f} s", flush=True)
        srv = Serve(data, "--clock", "manual").launch()
        try:
            with_snap = srv.wait_for("/api/v3/ping")
        finally:
            srv.stop()
        replay = "not measured (--no-journal-only)"
        if journal_only:
            snaps = data / "journal.sqlite.snapshots"
            for f in snaps.iterdir():
                f.unlink() if f.is_file() else shutil.rmtree(f)
            srv = Serve(data, "--clock", "manual").launch()
            try:
                replay = f"{srv.wait_for('/api/v3/ping'):.2f} s"
            finally:
                srv.stop()
        print(f"restart after {days} simulated days: first ping after {with_snap:.2f} s "
              f"(snapshot + tail), {replay} with the snapshots deleted (journal only)",
              flush=True)
    print(f"command: python bench/sim.py day --days {days} --chunk-ms {chunk_ms}"
          + ("" if journal_only else " --no-journal-only"))
    verdict = "meets" if max(day_s) <= 60 else "MISSES"
    print(f"sim_day: {_range(day_s, '{:.1f}')} s wall per simulated day ({verdict} the 60 s "
          f"target; per simulated hour {_range(chunks)} s); journal {hour[1] / 1e6:.2f} MB of "
          f"records per simulated hour ({hour[2] / 1e6:.2f} MB of files); RSS MB start "
          f"{rss[0]:.0f}, " + ", ".join(f"day {i} {r:.0f}" for i, r in enumerate(rss[1:], 1))
          + f", --no-sim {rss_nosim:.0f}; restart {with_snap:.2f} s (snapshot), "
          f"{replay} (journal only)")


# ------------------------------------------------------------------ profile
def profile(hours: int, top: int) -> None:
    sys.path.insert(0, str(ROOT / "src"))
    from spotex import config
    from spotex.clock import Clock
    from spotex.server import build, tune_gc

    async def run(data: Path) -> tuple[float, float, cProfile.Profile]:
        cfg = config.with_flags(config.load(None), clock="manual",
                                start_ms=config.parse_time(START))
        server = build(data, cfg=cfg, clock=Clock("manual", start=cfg.clock.start_ms))
        tune_gc()
        for start in server.app.on_startup:  # the sim's history, the clock
            start()
        t = time.perf_counter()
        await server.clock.advance(HOUR_MS)  # unprofiled: the in-process speed
        await server.engine.journal.flush()
        plain = time.perf_counter() - t
        prof = cProfile.Profile()
        t = time.perf_counter()
        prof.enable()
        for _ in range(hours):
            await server.clock.advance(HOUR_MS)
        await server.engine.journal.flush()
        prof.disable()
        profiled = time.perf_counter() - t
        for stop in server.app.on_shutdown:
            await stop()
        await server.engine.close()
        return plain, profiled, prof

    with tempfile.TemporaryDirectory(prefix="spotex-sim-") as d:
        os.sched_setaffinity(0, {1}) if hasattr(os, "sched_setaffinity") else None
        plain, profiled, prof = asyncio.run(run(Path(d) / "data"))
    for key in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(prof, stream=out).strip_dirs().sort_stats(key).print_stats(top)
        text = out.getvalue()
        print(f"--- top {top} by {key} ---")
        print(text[text.index("ncalls"):].rstrip())
    print(f"command: python bench/sim.py profile --hours {hours}")
    print(f"sim_profile: one simulated hour in process {plain:.2f} s unprofiled "
          f"(= {plain * 24:.0f} s a day), {profiled / hours:.2f} s an hour under cProfile")


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="what", required=True)
    fs = sub.add_parser("first-start")
    fs.add_argument("--rounds", type=int, default=2)
    dy = sub.add_parser("day")
    dy.add_argument("--days", type=int, default=2)
    dy.add_argument("--chunk-ms", type=int, default=HOUR_MS)
    dy.add_argument("--no-journal-only", dest="journal_only", action="store_false",
                    help="skip the restart from the journal alone (as long as the days)")
    pr = sub.add_parser("profile")
    pr.add_argument("--hours", type=int, default=1)
    pr.add_argument("--top", type=int, default=25)
    args = ap.parse_args()
    if args.what == "first-start":
        first_start(args.rounds)
    elif args.what == "day":
        day(args.days, args.chunk_ms, args.journal_only)
    else:
        profile(args.hours, args.top)


if __name__ == "__main__":
    main()
