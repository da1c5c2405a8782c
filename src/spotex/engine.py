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
import logging
import os
import pickle
import signal
import time
from typing import Any, Callable

import orjson

from . import configlog
from . import config as config_mod
from .config import Config
from .core.configure import ConfigConflict
from .core.errors import ApiError
from .core.exchange import Exchange, Settings
from .journal import SqliteJournal

log = logging.getLogger("spotex.engine")
_PR_SET_PDEATHSIG = 1
STATE_VERSION = 3  # of the pickled core: a snapshot of another version is not loaded


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


def _nothing(_: Any) -> None:
    return None


def _consume(fut: asyncio.Future[Any]) -> None:
    """Retrieve an unawaited future's exception (asyncio would log it as lost)."""
    if not fut.cancelled():
        fut.exception()


class RecoveryError(Exception):
    """The journal cannot be replayed: the server must not start on a partial state."""


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class Engine:
    def __init__(self, config: Config, journal: SqliteJournal,
                 clock: Callable[[], int] = wall_clock_ms) -> None:
        self.config = config
        self.journal = journal
        self.clock = clock
        self.state_tag = f"spotex-state-{STATE_VERSION}"  # of the snapshots it loads
        self.exchange = Exchange(Settings(symbols=[]))
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
        self.failure: str | None = None  # why commands are refused (health)
        self.retry_interval_s = 1.0  # between attempts to rebuild from a failed journal
        self.rebuild_task: asyncio.Task[None] | None = None
        journal.on_failure = self._journal_failed

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
        self.exchange = Exchange(self._initial_settings())
        for projection in self.projections.values():
            projection.reset()
        after = 0
        snap = self.journal.load_snapshot()
        if snap is not None:
            seq, blob = snap
            tag, exchange, projections = pickle.loads(blob)
            if tag == self.state_tag:
                self.exchange, after = exchange, seq
                for name, state in projections.items():
                    if name in self.projections:
                        self.projections[name].restore(state)
        count = 0
        for seq, rec in self.journal.replay(after):
            cmd = orjson.loads(rec)
            try:
                self.exchange.apply(configlog.core_command(cmd))
            except (ApiError, ConfigConflict) as exc:
                raise RecoveryError(f"journaled command {seq} ({cmd['t']}) was rejected on "
                                    f"replay: {exc}; the journal does not match this "
                                    "version of spotex") from exc
            self._notify(cmd)
            self.exchange.seq = seq
            self.exchange.last_ts = cmd["ts"]
            count += 1
        self.last_ts = max(self.last_ts, self.exchange.last_ts)
        return count

    def _initial_settings(self) -> Settings:
        """What the exchange starts from before replay: nothing, as every journal since
        config.set begins with one; a journal from before it ran under today's file."""
        first = next(iter(self.journal.replay(0)), None)
        if first is None or orjson.loads(first[1])["t"] == configlog.CONFIG_SET:
            return Settings(symbols=[])
        return self.config.settings

    def apply_config(self, source: str) -> bool:
        """Journal the config file's settings if they differ from the journal's latest
        (and the install's seed on first start). Raises ConfigError, naming `source`,
        when they cannot apply to the current state. Call after recover()."""
        cmd = configlog.config_command(self.config, self.exchange)
        if cmd is None:
            return False
        cmd["ts"] = self.now()
        try:
            self.exchange.apply(configlog.core_command(cmd))
        except ConfigConflict as exc:
            raise config_mod.ConfigError([f"{source}: {p}" for p in exc.problems]) from None
        self.exchange.last_ts = cmd["ts"]
        self.exchange.seq = self.journal.append(orjson.dumps(cmd))
        self._notify(cmd)
        return True

    def timestamp_now(self) -> int | None:
        """The time signed requests' `timestamp` is checked against (None: not checked,
        [clock] check_timestamps = false)."""
        return self.clock() if self.config.clock.check_timestamps else None

    def now(self) -> int:
        """Command time: the exchange clock, never going backwards."""
        ts = self.clock()
        if ts < self.last_ts:
            ts = self.last_ts
        self.last_ts = ts
        return ts

    # ------------------------------------------------------------------ commands
    async def execute(self, cmd: dict[str, Any], render: Callable[[Any], Any]) -> Any:
        """Apply `cmd`, render its result, return it once the command is durable."""
        out, fut = self._apply(cmd, render)
        try:
            await fut
        except Exception:  # the commit failed: not acknowledged, rolled back by _rebuild
            raise ApiError("UNEXPECTED_RESP") from None
        return out

    def execute_internal(self, cmd: dict[str, Any]) -> bool:
        """A command of the exchange's own (a sim step): applied and journaled like any,
        but nobody waits for its commit (an acknowledged command after it waits for it:
        the journal commits in order). False when it was refused or trading is stopped."""
        try:
            _, fut = self._apply(cmd, _nothing)
        except ApiError:
            return False
        fut.add_done_callback(_consume)  # a failure is handled by _journal_failed
        return True

    def _apply(self, cmd: dict[str, Any], render: Callable[[Any], Any],
               ) -> tuple[Any, asyncio.Future[int]]:
        """Stamp and apply `cmd`, render its result, queue it for the journal."""
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
        except Exception as exc:
            log.exception("command failed; rebuilding state from the journal: %r", cmd)
            self._start_rebuild(f"command failed: {exc!r}")
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
        return out, fut

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
        return (self.state_tag, self.exchange,
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

    def _start_rebuild(self, reason: str) -> None:
        """Stop taking commands and rebuild the core from the journal, the durable truth
        (a handler bug may have left it half-changed; a failed commit left commands in
        memory that were never acknowledged). Retries until the journal works again."""
        self.failure = reason
        if self.broken:
            return  # a rebuild is already under way
        self.broken = True
        self.rebuild_task = asyncio.get_running_loop().create_task(self._rebuild())

    async def _rebuild(self) -> None:
        """First the state (reads only: what was never committed leaves memory at once),
        then the journal's writes, probed until they work again."""
        rebuilt = False
        while True:
            try:
                if not rebuilt:
                    await self.journal.settle()
                    self.recover()
                    rebuilt = True
                await self.journal.repair()
            except Exception as exc:
                self.failure = f"journal unusable: {exc}"
                log.error("journal still failing (%s); retrying in %.1f s",
                          exc, self.retry_interval_s)
                await asyncio.sleep(self.retry_interval_s)
                continue
            self.broken, self.failure, self.rebuild_task = False, None, None
            log.warning("state rebuilt from the journal; taking commands again")
            return

    def _journal_failed(self, exc: BaseException) -> None:
        """Called by the journal the moment a commit fails, before anyone is answered."""
        log.error("journal commit failed (%s): trading stops until it works again", exc)
        self._start_rebuild(f"journal commit failed: {exc}")

    def health(self) -> dict[str, Any]:
        """What /admin/v1/health and the metrics report."""
        return {"status": "UNAVAILABLE" if self.broken else "OK",
                "journalSeq": self.exchange.seq, "error": self.failure}

    async def close(self) -> None:
        """Final snapshot (inline) after any background one, then close the journal."""
        if self.rebuild_task is not None:
            self.rebuild_task.cancel()
        try:
            await self.wait_snapshot()
            if not self.broken:
                self.snapshot()
        finally:
            await self.journal.close()
