"""The `spotex` command: serve prints the demo keys; `account ...` drives the admin API."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.live import ADMIN_TOKEN, LiveServer


def spotex(server: LiveServer, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "spotex.cli", "account", "--url", server.url,
                           "--admin-token", ADMIN_TOKEN, *args],
                          capture_output=True, text=True, timeout=30)


def test_serve_prints_demo_keys_and_account_commands_work(tmp_path: Path):
    with LiveServer(tmp_path / "data") as server:
        server.proc.stdout.readline()  # "spotex: data in ..."
        lines = [server.proc.stdout.readline().decode() for _ in range(3)]
        demo = server.demo
        assert lines[0].startswith("spotex: demo account 1")
        assert demo["apiKey"] in lines[1] and demo["secretKey"] in lines[2]

        r = spotex(server, "create", "--balance", "USDT=10000", "--balance", "BTC=1")
        assert r.returncode == 0, r.stderr
        created = json.loads(r.stdout)
        assert set(created) == {"accountId", "apiKey", "secretKey"}
        aid = str(created["accountId"])

        assert spotex(server, "deposit", aid, "USDT", "500").returncode == 0
        r = spotex(server, "withdraw", aid, "BTC", "0.25")
        assert r.returncode == 0, r.stderr
        balances = {b["asset"]: b["free"] for b in json.loads(spotex(server, "show", aid).stdout)["balances"]}
        assert balances == {"BTC": "0.75000000", "USDT": "10500.00000000"}

        r = spotex(server, "withdraw", aid, "BTC", "5")
        assert r.returncode == 1
        assert json.loads(r.stderr) == {"code": -2010, "msg": "Account has insufficient balance for requested action."}

        pem = tmp_path / "ed25519.pem"
        pem.write_bytes(Ed25519PrivateKey.generate().public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        r = spotex(server, "create", "--key-type", "ED25519", "--public-key", str(pem))
        assert r.returncode == 0, r.stderr
        assert set(json.loads(r.stdout)) == {"accountId", "apiKey"}

        bad = subprocess.run([sys.executable, "-m", "spotex.cli", "account", "--url", server.url,
                              "--admin-token", "wrong", "show", aid],
                             capture_output=True, text=True, timeout=30)
        assert bad.returncode == 1 and json.loads(bad.stderr)["code"] == -1002
