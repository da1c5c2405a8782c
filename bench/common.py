"""Shared benchmark plumbing: a spotex server process, wrk runs, signed request pools.

Load goes only to 127.0.0.1, every run is bounded in time, and the server is stopped
at the end. The server is pinned to one core and wrk to the other (as our server measurements were taken).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
ADMIN = "bench-admin-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_config(path: Path) -> Path:
    """Default markets with the per-account limits out of the way (load from few accounts)."""
    sys.path.insert(0, str(ROOT / "src"))
    from spotex.config import default_text

    text = default_text()
    text = text.replace("intervalNum = 10\nlimit = 100\n", "intervalNum = 10\nlimit = 100000000\n")
    text = text.replace("intervalNum = 1\nlimit = 200000\n", "intervalNum = 1\nlimit = 1000000000\n")
    text = text.replace("maxNumOrders = 200 }", "maxNumOrders = 10000000 }")
    text = text.replace("maxNumOrders = 1000\n", "maxNumOrders = 100000000\n")
    text = text.replace("limit = 6000\n", "limit = 100000000\n")
    text = text.replace("[limits]\nenabled = true", "[limits]\nenabled = false")
    path.write_text(text)
    return path


def pinned(cmd: list[str], core: int) -> list[str]:
    return (["taskset", "-c", str(core)] + cmd) if shutil.which("taskset") and os.cpu_count() and os.cpu_count() > 1 else cmd


class Server:
    """`spotex serve` (or any command serving HTTP) on a free port, pinned to core 1.

    Without `sim` the exchange starts empty (--no-sim); its log is kept to warnings (the
    stderr pipe is read only if the server dies: access lines would fill it)."""

    def __init__(self, cmd: list[str] | None = None, port: int | None = None,
                 sim: bool = False) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.tmp = Path(tempfile.mkdtemp(prefix="spotex-bench-"))
        self.cmd = cmd or [PY, "-m", "spotex.cli", "serve", "--port", str(self.port),
                           "--data-dir", str(self.tmp / "data"), "--admin-token", ADMIN,
                           "--config", str(bench_config(self.tmp / "bench.toml")),
                           "--log-level", "warning", *(() if sim else ("--no-sim",))]
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Server":
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        self.proc = subprocess.Popen(pinned(self.cmd, 1), env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/api/v3/ping", timeout=1).read()
                return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(self.proc.stderr.read().decode())
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def __exit__(self, *exc: object) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def admin(self, path: str, body: dict) -> dict:
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {ADMIN}",
                                              "Content-Type": "application/json"})
        return json.loads(urllib.request.urlopen(req).read())

    def new_account(self, **balances: str) -> dict:
        return self.admin("/admin/v1/accounts", {"balances": balances})


def sign(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def lua_pool(requests: list[tuple[str, str, dict[str, str], str]], path: Path) -> Path:
    """A wrk script cycling through pre-built requests (method, path, headers, body)."""
    def lua_str(s: str) -> str:
        return "[==[" + s + "]==]"
    lines = ["local reqs = {}"]
    for method, p, headers, body in requests:
        h = ", ".join(f"[ {lua_str(k)} ] = {lua_str(v)}" for k, v in headers.items())
        lines.append(f"reqs[#reqs + 1] = wrk.format({lua_str(method)}, {lua_str(p)}, {{{h}}}, {lua_str(body)})")
    lines += ["local i = 0", "request = function()", "  i = i + 1",
              "  if i > #reqs then i = 1 end", "  return reqs[i]", "end"]
    path.write_text("\n".join(lines) + "\n")
    return path


def wrk(url: str, seconds: int, script: Path | None = None, connections: int = 64) -> dict:
    """Run wrk (1 thread, pinned to core 0); returns req/s, p50/p99 ms and non-2xx count."""
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install wrk")
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    if script:
        cmd += ["-s", str(script)]
    out = subprocess.run(pinned(cmd + [url], 0), capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rps": rps, "p50_ms": _ms(out, "50%"), "p99_ms": _ms(out, "99%"),
            "non2xx": int(bad.group(1)) if bad else 0, "requests": total}


def _ms(out: str, pct: str) -> float:
    m = re.search(rf"{re.escape(pct)}\s+([\d.]+)(us|ms|s)", out)
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
