"""`spotex config check/show`, and `serve` refusing a config it cannot use: its problem
lines on stderr, exit code 2, before anything starts."""
from __future__ import annotations

import tomllib
from pathlib import Path

from spotex.config import default_text

from tests.live import config_without_symbol

from .run import Serve, spotex

_BAD = """
[limits]
enabled = 3

[logging]
level = "loud"
"""


def _without_sol(text: str) -> str:
    return config_without_symbol(text, "SOLUSDT").replace('SOL = "1000"\n', "")


def test_check_ok_and_problems(tmp_path: Path):
    good = tmp_path / "good.toml"
    good.write_text(default_text())
    r = spotex("config", "check", str(good))
    assert (r.returncode, r.stdout, r.stderr) == (0, f"{good}: ok\n", "")

    bad = tmp_path / "bad.toml"
    bad.write_text(_BAD)
    r = spotex("config", "check", str(bad))
    assert r.returncode == 2 and r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) >= 3 and all(line.startswith(f"{bad}: ") for line in lines), lines
    assert any("limits.enabled" in line for line in lines)
    assert any("logging.level" in line for line in lines)
    assert "Traceback" not in r.stderr

    r = spotex("config", "check", str(tmp_path / "missing.toml"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert r.stderr.startswith(f"{tmp_path / 'missing.toml'}: ")


def test_show_prints_the_effective_config_as_toml(tmp_path: Path):
    r = spotex("config", "show")
    assert r.returncode == 0, r.stderr
    doc = tomllib.loads(r.stdout)
    assert {s["symbol"] for s in doc["symbols"]} >= {"BTCUSDT", "ETHUSDT", "SOLUSDT"}
    shown = tmp_path / "shown.toml"
    shown.write_text(r.stdout)
    assert spotex("config", "check", str(shown)).returncode == 0

    small = tmp_path / "small.toml"
    small.write_text(_without_sol(default_text()))
    r = spotex("config", "show", "--config", str(small))
    assert r.returncode == 0, r.stderr
    assert "SOLUSDT" not in {s["symbol"] for s in tomllib.loads(r.stdout)["symbols"]}


def test_serve_with_a_bad_config_starts_nothing(tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text(_BAD)
    r = spotex("serve", "--config", str(bad), "--port", "0", "--data-dir", str(tmp_path / "data"))
    assert r.returncode == 2 and r.stdout == ""
    assert all(line.startswith(f"{bad}: ") for line in r.stderr.splitlines()), r.stderr
    assert not (tmp_path / "data").exists()


def test_serve_refuses_a_config_the_journal_cannot_take(tmp_path: Path):
    data = tmp_path / "data"
    with Serve("--data-dir", str(data), "--port", "0") as server:  # demo account holds SOL
        server.started()
        server.stop()
    no_sol = tmp_path / "nosol.toml"
    no_sol.write_text(_without_sol(default_text()))
    r = spotex("serve", "--config", str(no_sol), "--port", "0", "--data-dir", str(data))
    assert r.returncode == 2 and r.stdout == "", r.stdout
    assert r.stderr.startswith(f"{no_sol}: asset SOL: held by accounts 1"), r.stderr
    assert "Traceback" not in r.stderr
    with Serve("--data-dir", str(data), "--port", "0") as server:  # the old config still runs
        server.started()
        assert server.ping() == 200
        server.stop()
