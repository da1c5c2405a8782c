"""A user's mistake is one line on stderr and exit code 2, never a traceback; global
options go before or after the subcommand."""
from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from tests.live import ADMIN_TOKEN, LiveServer, free_port

from .run import Serve, spotex


def _one_line(r, *expected: str) -> str:
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stdout == ""
    assert r.stderr.endswith("\n") and r.stderr.count("\n") == 1, r.stderr
    assert "Traceback" not in r.stderr
    for text in expected:
        assert text in r.stderr, r.stderr
    return r.stderr.rstrip("\n")


def test_version():
    r = spotex("--version")
    assert (r.returncode, r.stdout) == (0, "spotex 0.1.0\n")


@pytest.mark.parametrize("args, expected", [
    (["account", "create", "--balance", "USDT"], "'USDT' is not ASSET=AMOUNT"),
    (["account", "create", "--balance", "=5"], "'=5' is not ASSET=AMOUNT"),
    (["serve", "--port", "70000"], "argument --port: 70000 is not a port"),
    (["serve", "--port", "http"], "'http' is not a port number"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    ([], "the following arguments are required: COMMAND"),
    (["account", "show", "two"], "argument account_id: invalid int value"),
    (["--log-level", "loud", "serve"], "argument --log-level: invalid choice"),
])
def test_argument_mistakes(args, expected):
    _one_line(spotex(*args), expected)


def test_unreachable_server_names_the_url():
    url = f"http://127.0.0.1:{free_port()}"
    line = _one_line(spotex("account", "show", "2", "--url", url, "--admin-token", "t"))
    assert line == f"spotex: cannot reach the server at {url} (connection refused)"


def test_admin_token_not_found_says_where_it_looked(tmp_path: Path):
    line = _one_line(spotex("account", "show", "2", cwd=tmp_path))
    assert line == ("spotex: no admin token: give --admin-token or $SPOTEX_ADMIN_TOKEN, or the "
                    f"server's --data-dir (looked for {tmp_path.resolve()}/spotex-data/admin-token)")
    elsewhere = tmp_path / "elsewhere"
    line = _one_line(spotex("account", "show", "2", cwd=tmp_path, SPOTEX_DATA_DIR=str(elsewhere)))
    assert f"(looked for {elsewhere}/admin-token)" in line
    line = _one_line(spotex("--data-dir", "d2", "account", "show", "2", cwd=tmp_path))
    assert f"(looked for {tmp_path.resolve()}/d2/admin-token)" in line


def test_missing_public_key_file(tmp_path: Path):
    line = _one_line(spotex("account", "create", "--key-type", "ED25519", "--public-key",
                            str(tmp_path / "nope.pem"), "--admin-token", "t"))
    assert line == (f"spotex: cannot read the public key file {tmp_path / 'nope.pem'}: "
                    "No such file or directory")
    _one_line(spotex("account", "create", "--key-type", "RSA", "--admin-token", "t"),
              "--key-type RSA needs --public-key FILE")


def test_token_from_env_data_dir_and_global_options_anywhere(tmp_path: Path):
    data = tmp_path / "data"
    with LiveServer(data) as server:  # its token is --admin-token ADMIN_TOKEN
        r = spotex("account", "show", "1", "--url", server.url, SPOTEX_ADMIN_TOKEN=ADMIN_TOKEN)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["balances"]
        r = spotex("--url", server.url, "--admin-token", ADMIN_TOKEN, "account", "show", "1")
        assert r.returncode == 0, r.stderr
        r = spotex("account", "--url", server.url, "deposit", "1", "USDT", "5",
                   "--admin-token", ADMIN_TOKEN)
        assert r.returncode == 0, r.stderr
        r = spotex("account", "show", "1", "--url", server.url, "--admin-token", "wrong")
        assert r.returncode == 1 and json.loads(r.stderr)["code"] == -1002  # API error: as is
    # a server with a generated token: found through --data-dir or $SPOTEX_DATA_DIR
    with Serve("--port", "0", "--data-dir", str(tmp_path / "own")) as own:
        own.started()
        r = spotex("account", "show", "1", "--url", own.url, "--data-dir", str(tmp_path / "own"))
        assert r.returncode == 0, r.stderr
        r = spotex("account", "show", "1", "--url", own.url, SPOTEX_DATA_DIR=str(tmp_path / "own"))
        assert r.returncode == 0, r.stderr
        own.stop()


def test_data_dir_before_the_subcommand_from_env_and_default(tmp_path: Path):
    for before, env, folder in [(("--data-dir", "before"), {}, "before"),
                                ((), {"SPOTEX_DATA_DIR": "from-env"}, "from-env"),
                                ((), {}, "spotex-data")]:
        with Serve("--port", "0", before=before, cwd=tmp_path, **env) as server:
            assert server.started()[0] == f"spotex: data in {tmp_path.resolve()}/{folder}"
            server.stop()


def test_port_in_use_is_one_line_and_never_says_listening(tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = spotex("serve", "--port", str(port), "--data-dir", str(tmp_path / "data"))
    assert r.returncode == 2
    assert r.stderr == f"spotex: cannot listen on 127.0.0.1:{port}: address already in use\n"
    assert "listening" not in r.stdout
    # the folder it locked is free again at once
    with Serve("--port", "0", "--data-dir", str(tmp_path / "data")) as server:
        server.started()
        server.stop()


def test_port_0_prints_the_port_it_got(tmp_path: Path):
    with Serve("--data-dir", str(tmp_path / "data"), "--port", "0") as server:
        server.started()
        port = int(server.url.rsplit(":", 1)[1])
        assert port > 0 and server.ping() == 200
        server.stop()
