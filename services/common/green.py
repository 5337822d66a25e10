"""Eventlet set-up, kept in one place so a move away from eventlet touches one file.

``patch()`` must run before anything imports sockets: the service runner and
``tests/conftest.py`` call it first thing.
"""
from __future__ import annotations

import warnings

_patched = False


def patch() -> None:
    global _patched
    if _patched:
        return
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", message="\\s*Eventlet is deprecated")
    import eventlet

    eventlet.monkey_patch()
    # psycopg2 is a C driver: without this patch one slow query blocks the hub
    # (ARCHITECTURE "Known traps").
    from psycogreen.eventlet import patch_psycopg

    patch_psycopg()
    _patched = True
