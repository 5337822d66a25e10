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


# -- the few green primitives code outside services/common needs -----------------------

def sleep(seconds: float) -> None:
    import eventlet

    eventlet.sleep(seconds)


def new_event():
    """A one-shot result slot a worker fills and a waiter reads (``send`` / ``wait``)."""
    from eventlet.event import Event

    return Event()


def deadline(seconds: float):
    """``with deadline(s):`` raises ``TimeoutError`` if the block takes longer than ``s``."""
    import eventlet

    return eventlet.Timeout(seconds, exception=TimeoutError)


def spawn(fn, *args, **kwargs):
    """Run ``fn`` in another green thread; ``.wait()`` gives its result (or raises its error),
    ``.kill()`` ends it. For CPU work that can go on while this thread waits for the database
    (the server works on the other core meanwhile)."""
    import eventlet

    return eventlet.spawn(fn, *args, **kwargs)


def in_thread(fn, *args, **kwargs):
    """Run a CPU-bound C call (a password hash) in a real OS thread, so the hub keeps serving
    other workers while it runs (the GIL is released inside the C code)."""
    from eventlet import tpool

    return tpool.execute(fn, *args, **kwargs)
