"""A real `spotex serve` process on a free loopback port, for recovery and client tests."""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ADMIN_TOKEN = "live-admin-token"


def config_without_order_limits(path: Path) -> Path:
    """The default config with the ORDERS limits raised out of the way (for load tests)."""
    from spotex.config import default_text

    text = default_text().replace("intervalNum = 10\nlimit = 100\n", "intervalNum = 10\nlimit = 10000000\n")
    path.write_text(text)
    return path


def config_without_symbol(text: str, symbol: str) -> str:
    """Config text with one [[symbols]] block and its [sim.symbols.X] table removed."""
    text = re.sub(rf"\[sim\.symbols\.{symbol}\]\n(?:[^\[\n].*\n)*\n?", "", text)
    blocks = text.split("[[symbols]]")
    return "[[symbols]]".join(b for b in blocks if f'symbol = "{symbol}"' not in b)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, data_dir: Path, port: int | None = None,
                 config: Path | None = None, log_level: str = "warning",
                 args: tuple[str, ...] = (), sim: bool = False) -> None:
        """`log_level` is warning by default: nobody reads the output while the server
        runs, and a pipe that fills up (access log lines) would block it. `args` are
        more `spotex serve` options. Without `sim` the exchange starts empty (--no-sim),
        as the tests of its rules need."""
        self.data_dir = data_dir
        self.config = config
        self.log_level = log_level
        self.args = tuple(args) + (() if sim else ("--no-sim",))
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 20.0) -> "LiveServer":
        cmd = [sys.executable, "-m", "spotex.cli", "serve", "--port", str(self.port),
               "--data-dir", str(self.data_dir), "--admin-token", ADMIN_TOKEN,
               "--log-level", self.log_level, *self.args]
        if self.config:
            cmd += ["--config", str(self.config)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"spotex exited: {self.proc.stdout.read().decode()}")
            try:
                if httpx.get(self.url + "/api/v3/ping", timeout=0.5).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("spotex did not start in time")

    @property
    def demo(self) -> dict:
        return json.loads((self.data_dir / "demo-account.json").read_text())

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def __enter__(self) -> "LiveServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
