"""Run the real `spotex` command in a subprocess (the tests of tests/cli)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx


def env(**extra: str) -> dict[str, str]:
    """os.environ without the spotex variables (a developer's own would leak in), plus `extra`."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("SPOTEX_")}
    return {**base, "PYTHONUNBUFFERED": "1", **extra}


def spotex(*args: str, cwd: Path | None = None, timeout: float = 60,
           **extra_env: str) -> subprocess.CompletedProcess:
    """`spotex ARGS...` to its end: returncode, stdout, stderr (text)."""
    return subprocess.run([sys.executable, "-m", "spotex.cli", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd, env=env(**extra_env))


class Serve:
    """`spotex serve ARGS...` in the background, stdout and stderr apart; `started()`
    reads stdout up to the "listening" line."""

    def __init__(self, *args: str, before: tuple[str, ...] = (), cwd: Path | None = None,
                 sim: bool = False, **extra_env: str) -> None:
        """`spotex BEFORE... serve ARGS...` (with --no-sim unless `sim`)"""
        args = args if sim else (*args, "--no-sim")
        self.proc = subprocess.Popen([sys.executable, "-m", "spotex.cli", *before, "serve", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, cwd=cwd, env=env(**extra_env))
        self.lines: list[str] = []
        self.url = ""

    def started(self) -> list[str]:
        """The start-up lines on stdout, up to and with `spotex: listening on URL`."""
        assert self.proc.stdout is not None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError(f"spotex serve ended: rc={self.proc.wait(10)} "
                                     f"stdout={self.lines} stderr={self.proc.stderr.read()}")
            self.lines.append(line.rstrip("\n"))
            if line.startswith("spotex: listening on "):
                self.url = line.split()[-1]
                return self.lines

    def ping(self) -> int:
        return httpx.get(self.url + "/api/v3/ping", timeout=5).status_code

    def stop(self) -> tuple[str, str]:
        """SIGTERM, wait; the rest of stdout and all of stderr."""
        if self.proc.poll() is None:
            self.proc.terminate()
        out, err = self.proc.communicate(timeout=30)
        return out, err

    def kill9(self) -> None:
        self.proc.kill()
        self.proc.communicate(timeout=10)

    def __enter__(self) -> "Serve":
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate(timeout=10)
