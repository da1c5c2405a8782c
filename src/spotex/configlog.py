"""The config file as journaled commands (the core's side is core/configure.py).

The journal stores the config's plain document (`config.core_doc`), never Python
objects: a journal is read back by later versions, and a document is what the config
schema already knows how to turn into settings.
"""
from __future__ import annotations

import secrets
from typing import Any

from . import config
from .core.exchange import Exchange

CONFIG_SET = "config.set"


def config_command(cfg: config.Config, exchange: Exchange) -> dict[str, Any] | None:
    """The config.set to journal so that the exchange runs under `cfg` from now on:
    None when it already does. The first one of an install carries its random seed
    (generated client order ids differ between installs, and replay the same)."""
    doc = config.core_doc(cfg)
    if exchange.id_seed and config.settings_from_doc(doc) == exchange.settings:
        return None
    cmd: dict[str, Any] = {"t": CONFIG_SET, "doc": doc}
    if not exchange.id_seed:
        cmd["seed"] = secrets.token_hex(16)
    return cmd


def core_command(cmd: dict[str, Any]) -> dict[str, Any]:
    """A journaled command as the core takes it: config.set gets its Settings."""
    if cmd["t"] != CONFIG_SET:
        return cmd
    return {**cmd, "settings": config.settings_from_doc(cmd["doc"])}
