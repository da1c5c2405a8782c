"""The data folder through the real `spotex serve`: one server at a time, private modes,
the demo keys printed once."""
from __future__ import annotations

import os
import signal
import stat
from pathlib import Path

from tests.live import free_port

from .run import Serve


def _state(folder: Path) -> dict[str, tuple]:
    """Every entry's mode, size, mtime and (files) content."""
    out = {}
    for p in sorted(folder.rglob("*")):
        st = p.lstat()
        out[str(p)] = (st.st_mode, st.st_size, st.st_mtime_ns,
                       p.read_bytes() if p.is_file() else None)
    return out


def _modes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): oct(stat.S_IMODE(p.stat().st_mode))
            for p in [folder, *folder.rglob("*")]}


def test_second_server_on_a_folder_is_refused_and_touches_nothing(tmp_path: Path):
    data = tmp_path / "data"
    with Serve("--data-dir", str(data), "--port", "0") as first:
        first.started()
        assert (data / "lock").read_text() == f"{first.proc.pid}\n"
        before = _state(data)
        second = Serve("--data-dir", str(data), "--port", str(free_port()))
        out, err = second.proc.communicate(timeout=60)
        assert second.proc.returncode == 2
        assert err == (f"spotex: data folder {data.resolve()} is in use by another spotex "
                       f"server (PID {first.proc.pid})\n")
        assert out == ""
        assert _state(data) == before
        assert first.ping() == 200


def test_restart_right_after_kill9_prints_where_the_keys_are(tmp_path: Path):
    data = tmp_path / "data"
    port = free_port()
    with Serve("--data-dir", str(data), "--port", str(port)) as first:
        lines = first.started()
        assert lines[1].startswith("spotex: demo account 1")
        assert lines[2].startswith("  API key:    ") and lines[3].startswith("  secret key: ")
        first.kill9()
    with Serve("--data-dir", str(data), "--port", str(port)) as again:
        lines = again.started()
        assert again.ping() == 200
        assert (data / "lock").read_text() == f"{again.proc.pid}\n"
        assert lines == [
            f"spotex: data in {data.resolve()}",
            f"spotex: demo account keys in {(data / 'demo-account.json').resolve()}",
            f"spotex: admin token in {(data / 'admin-token').resolve()}",
            "spotex: no simulated market (empty books)",
            f"spotex: listening on http://127.0.0.1:{port}",
        ]
        assert not any("secret key" in line for line in lines)
        again.stop()


def test_folder_0700_and_every_file_0600(tmp_path: Path):
    data = tmp_path / "new" / "data"
    with Serve("--data-dir", str(data), "--port", "0") as server:
        server.started()
        out, err = server.stop()  # the final snapshot lands in journal.sqlite.snapshots/
        assert server.proc.returncode in (0, -signal.SIGTERM), err  # uvicorn re-raises it
        assert err == ""
    modes = _modes(data)
    snapshots = [name for name in modes if name.startswith("journal.sqlite.snapshots/")]
    assert snapshots, modes
    for name in ("admin-token", "demo-account.json", "lock", "journal.sqlite", *snapshots):
        assert modes[name] == "0o600", (name, modes)
    assert modes["."] == modes["journal.sqlite.snapshots"] == "0o700"
    assert set(modes) - {".", "journal.sqlite.snapshots"} <= {
        "admin-token", "demo-account.json", "lock", "journal.sqlite", "journal.sqlite-wal",
        "journal.sqlite-shm", *snapshots}
    with Serve("--data-dir", str(data), "--port", "0") as server:  # -wal and -shm while open
        server.started()
        modes = _modes(data)
        assert modes["journal.sqlite-wal"] == modes["journal.sqlite-shm"] == "0o600"
        server.stop()


def test_open_folder_is_warned_about_and_its_files_made_private(tmp_path: Path):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    (data / "admin-token").write_text("old-token\n")
    (data / "admin-token").chmod(0o644)
    (data / "notes.txt").write_text("not spotex's\n")
    (data / "notes.txt").chmod(0o644)
    with Serve("--data-dir", str(data), "--port", "0") as server:
        server.started()
        out, err = server.stop()
    assert err == (f"spotex: warning: data folder {data.resolve()} is open to other users "
                   f"(mode 0755); run: chmod 700 {data.resolve()}\n")
    assert stat.S_IMODE(os.stat(data / "admin-token").st_mode) == 0o600
    assert (data / "admin-token").read_text() == "old-token\n"
    assert stat.S_IMODE(os.stat(data / "notes.txt").st_mode) == 0o644  # not ours: as it was
    assert stat.S_IMODE(os.stat(data).st_mode) == 0o755  # the owner's choice, only warned
