"""The single writer: applies commands to the core and makes them durable before answering.

`Engine.execute(cmd, render)` stamps the command with the time, applies it, renders the
response from the state right after it (later commands may change the same order), then
waits for the journal's group commit. A rejected command (ApiError) changes nothing and
is not journaled. An unexpected exception may have left the core half-changed, so the
engine refuses commands until it has rebuilt the core from the journal.
"""
from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import hashlib
import logging
import os
import pickle
import signal
import time
from typing import Any, Callable

import orjson

from .config import Config
from .core.errors import ApiError
from .core.exchange import Exchange
from .journal import SqliteJournal

log = logging.getLogger("spotex.engine")
_PR_SET_PDEATHSIG = 1
STATE_VERSION = 2  # of the pickled core: a snapshot of another version is not loaded


def _die_with_parent(parent: int) -> None:
    """Linux: a snapshot child must not outlive a killed server (it holds a copy of
    its memory); elsewhere the child just finishes its file, which is never promoted."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return
    if os.getppid() != parent:  # the parent already died before prctl
        os._exit(1)


def _close_inherited() -> None:
    """Close every descriptor but stdin/out/err (the listening socket among them)."""
    try:
        fds = [int(fd) for fd in os.listdir("/proc/self/fd")]
    except OSError:  # pragma: no cover - no /proc
        os.closerange(3, 1 << 16)
        return
    for fd in fds:
        if fd > 2:
            with contextlib.suppress(OSError):
                os.close(fd)


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class Engine:
    def __init__(self, config: Config, journal: SqliteJournal,
                 clock: Callable[[], int] = wall_clock_ms) -> None:
        self.config = config
        self.journal = journal
        self.clock = clock
        self.config_hash = hashlib.sha256(
            f"{STATE_VERSION}:{config.settings!r}".encode()).hexdigest()
        self.exchange = Exchange(config.settings)
        self.last_ts = 0
        self.broken = False
        self.since_snapshot = 0
        self.snapshot_task: asyncio.Task[None] | None = None  # a background snapshot
        self.snapshot_pid = 0  # its process
        # projections (market data) see every applied command, live and on
        # replay; objects in `projections` are saved in snapshots with the core
        self.listeners: list[Callable[[Exchange, dict[str, Any]], None]] = []
        self.projections: dict[str, Any] = {}
        # streams see only live commands, after the projections; a failure there is
        # logged and never fails the (already applied) command
        self.live_listeners: list[Callable[[Exchange, dict[str, Any]], None]] = []
        # observers (metrics): a live command with its outcome (the core's result, or
        # the ApiError that rejected it) and the seconds the core took; a snapshot's
        # seconds
        self.on_command: Callable[[dict[str, Any], Any, float], None] | None = None
        self.on_snapshot: Callable[[float], None] | None = None

    # ------------------------------------------------------------------ startup
    def recover(self) -> int:
        """Rebuild state: latest snapshot (if made with this config) + journal tail.

        The cyclic GC is paused meanwhile: unpickling and replay create millions of
        long-lived objects, and each collection would walk them all again.
        """
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            replayed = self._recover()
        finally:
            if was_enabled:
                gc.enable()
        self.since_snapshot = replayed  # the next snapshot bounds the replay of a restart
        return replayed

    def _recover(self) -> int:
        self.exchange = Exchange(self.config.settings)
        for projection in self.projections.values():
            projection.reset()
        after = 0
        snap = self.journal.load_snapshot()
        if snap is not None:
            seq, blob = snap
            config_hash, exchange, projections = pickle.loads(blob)
            if config_hash == self.config_hash:
                self.exchange, after = exchange, seq
                for name, state in projections.items():
                    if name in self.projections:
                        self.projections[name].restore(state)
        count = 0
        for seq, rec in self.journal.replay(after):
            cmd = orjson.loads(rec)
            try:
                self.exchange.apply(cmd)
            except ApiError:  # cannot happen for a journaled command; keep going
                log.exception("journaled command %s was rejected on replay", seq)
                continue
            self._notify(cmd)
            self.exchange.seq = seq
            self.exchange.last_ts = cmd["ts"]
            count += 1
        self.last_ts = max(self.last_ts, self.exchange.last_ts)
        return count

    def now(self) -> int:
        """Command time: wall clock, never going backwards."""
        ts = self.clock()
        if ts < self.last_ts:
            ts = self.last_ts
        self.last_ts = ts
        return ts

    # ------------------------------------------------------------------ commands
    async def execute(self, cmd: dict[str, Any], render: Callable[[Any], Any]) -> Any:
        """Apply `cmd`, render its result, return it once the command is durable."""
        if self.broken:
            raise ApiError("DISCONNECTED")
        cmd["ts"] = self.now()
        started = time.perf_counter()
        try:
            result = self.exchange.apply(cmd)
        except ApiError as exc:
            if self.on_command is not None:
                self.on_command(cmd, exc, time.perf_counter() - started)
            raise
        except Exception:
            log.exception("command failed; rebuilding state from the journal: %r", cmd)
            self._start_rebuild()
            raise ApiError("UNKNOWN")
        if self.on_command is not None:
            self.on_command(cmd, result, time.perf_counter() - started)
        self.exchange.last_ts = cmd["ts"]
        out = render(result)
        fut = self.journal.submit(orjson.dumps(cmd))
        self.exchange.seq = self.journal.seq
        self._notify(cmd)
        for listener in self.live_listeners:
            try:
                listener(self.exchange, cmd)
            except Exception:
                log.exception("live listener failed on %r", cmd)
        self.since_snapshot += 1
        if self.since_snapshot >= self.config.snapshot_every:
            self.snapshot_in_background()
        await fut
        return out

    def _notify(self, cmd: dict[str, Any]) -> None:
        for listener in self.listeners:
            listener(self.exchange, cmd)

    def snapshot(self) -> asyncio.Future[None]:
        """Queue a snapshot of the current state, pickled here on the loop thread."""
        self.since_snapshot = 0
        return self.journal.save_snapshot(self.exchange.seq, self._pickle())

    def _pickle(self) -> bytes:
        return pickle.dumps(self._state(), protocol=pickle.HIGHEST_PROTOCOL)

    def _state(self) -> tuple[str, Exchange, dict[str, Any]]:
        """What a snapshot holds: the config it was made under, the core, the projections."""
        return (self.config_hash, self.exchange,
                {name: p.state() for name, p in self.projections.items()})

    def snapshot_in_background(self) -> None:
        """Snapshot from a forked child, which pickles a copy-on-write image of the state.

        Pickling a million orders takes seconds; the fork takes tens of milliseconds, so
        the exchange keeps serving meanwhile. The child only writes a temporary file; this
        process promotes it once the journal holds every record it covers (snapshots.py).
        Skipped while the previous one is in progress; inline where fork is missing. A
        failure here never fails the command that happened to trigger it.
        """
        self.since_snapshot = 0
        if not hasattr(os, "fork"):  # pragma: no cover - non-POSIX
            self.snapshot()
            return
        if self.snapshot_task is not None and not self.snapshot_task.done():
            return
        seq, parent = self.exchange.seq, os.getpid()
        try:
            pid = os.fork()
        except OSError:
            log.exception("no background snapshot: fork failed")
            return
        if pid == 0:
            self._snapshot_child(seq, parent)  # never returns
        self.snapshot_pid = pid
        self.snapshot_task = asyncio.get_running_loop().create_task(self._adopt(pid, seq))

    def _snapshot_child(self, seq: int, parent: int) -> None:
        """In the forked child: write the pending snapshot file, then exit at once."""
        code = 1
        try:
            _die_with_parent(parent)
            # no inherited socket may outlive the server (a restart could not bind)
            _close_inherited()
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, signal.SIG_DFL)
            gc.disable()
            state = self._state()
            self.journal.snapshots.write_pending(
                seq, lambda f: pickle.dump(state, f, protocol=pickle.HIGHEST_PROTOCOL))
            code = 0
        except BaseException as exc:
            os.write(2, f"spotex: background snapshot failed: {exc!r}\n".encode())
        finally:
            os._exit(code)

    async def _adopt(self, pid: int, seq: int) -> None:
        """Wait for the child, then promote its file once records <= seq are durable."""
        snapshots = self.journal.snapshots
        started = time.perf_counter()
        try:
            _, status = await asyncio.get_running_loop().run_in_executor(None, os.waitpid, pid, 0)
            if os.waitstatus_to_exitcode(status) != 0:
                raise RuntimeError(f"snapshot process ended with status {status}")
            await self.journal.flush()  # they were submitted before the fork
            snapshots.promote(seq, pid)
            if self.on_snapshot is not None:
                self.on_snapshot(time.perf_counter() - started)
        except Exception:
            log.exception("background snapshot at seq %s not kept", seq)
            snapshots.pending(seq, pid).unlink(missing_ok=True)

    async def wait_snapshot(self) -> None:
        """Wait until a background snapshot in progress has ended."""
        if self.snapshot_task is not None:
            await self.snapshot_task

    def _start_rebuild(self) -> None:
        self.broken = True

        async def rebuild() -> None:
            try:
                await self.journal.flush()
                self.recover()
                self.broken = False
                log.warning("state rebuilt from the journal")
            except Exception:  # pragma: no cover - journal itself is broken
                log.exception("rebuild failed; engine stays unavailable")

        asyncio.get_running_loop().create_task(rebuild())

    async def close(self) -> None:
        """Final snapshot (inline) after any background one, then close the journal."""
        try:
            await self.wait_snapshot()
            if not self.broken:
                self.snapshot()
        finally:
            await self.journal.close()
