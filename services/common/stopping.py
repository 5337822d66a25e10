"""Running a nameko service process and stopping it cleanly (issue 7, "A clean stop").

``serve(service_cls, config)`` replaces ``nameko.cli.run.run``:

* SIGTERM and SIGINT both start ONE graceful stop; a second signal is only logged (nameko's
  own runner stopped the containers once per signal, and a second ``Timer.stop`` raised
  ``AssertionError: Trying to re-send() an already-triggered event`` from every timer);
* the graceful stop is nameko's ``ServiceRunner.stop``: entrypoints stop consuming, workers
  in flight finish (and ack their messages), then dependencies stop (the outbox relay
  publishes what those workers committed). It is bounded by ``STOP_GRACE`` seconds (default
  10): past it the containers are killed, the workers still running are abandoned and their
  unacked messages go back to the queue (redelivered to another instance or after a
  restart; the handlers are idempotent);
* no KeyboardInterrupt is raised anywhere, so no traceback is printed.

``harden_nameko()`` fixes four things of nameko 2.14 for every service (tests call it too):

* ``Timer.stop`` may be called twice (the second call is a no-op instead of an
  ``AssertionError``);
* queue consumers notice a stop within 0.1 s instead of between 1 s socket reads (a container
  took 2 s to stop);
* an ack or requeue on a connection the broker link just lost is dropped, not raised.
  nameko guards them with ``amqp.exceptions.ConnectionError`` only, but today's py-amqp
  raises the socket's own ``BrokenPipeError``/``ConnectionResetError``: the exception
  escaped the worker and killed the whole container, so one broker cut in the middle of a
  burst stopped the cases service for good (issue 7, found by
  ``tests/e2e/test_broker_outage.py``). Dropping is safe: the broker takes back every
  unacked message of a lost channel and delivers it again, and every handler is idempotent;
* how a service answers an RPC (``rpc.harden_responder``): a reply lost with the broker link no
  longer kills the service, and a request that failed because the database is unavailable
  answers ``ServiceUnavailable`` (the gateway's 503), not a 500.
"""
from __future__ import annotations

import contextvars
import errno
import logging
import os
import signal

log = logging.getLogger(__name__)

CONSUMER_POLL = 0.1  # seconds between a consumer's looks at "should I stop"
_hardened = False


def harden_nameko() -> None:
    global _hardened
    if _hardened:
        return
    from kombu.mixins import ConsumerMixin
    from nameko.timer import Timer

    consume = ConsumerMixin.consume

    def consume_polling(self, limit=None, timeout=None, safety_interval=CONSUMER_POLL, **kwargs):
        return consume(self, limit=limit, timeout=timeout, safety_interval=safety_interval, **kwargs)

    ConsumerMixin.consume = consume_polling

    timer_stop = Timer.stop

    def stop_once(self):
        # stopped twice (two signals, or stop after kill): the loop already has its answer
        if self.should_stop.ready():
            if self.gt is not None:
                self.gt.wait()
            return
        timer_stop(self)

    Timer.stop = stop_once

    from nameko.messaging import QueueConsumer

    def settle_or_drop(settle):
        def settle_message(self, message):
            try:
                settle(self, message)
            except OSError as exc:  # BrokenPipeError, ConnectionResetError, socket timeouts
                log.warning("%s of a message dropped, the broker link is lost (%s); the broker "
                            "delivers the message again", settle.__name__, type(exc).__name__)
        settle_message.__name__ = settle.__name__
        return settle_message

    QueueConsumer.ack_message = settle_or_drop(QueueConsumer.ack_message)
    QueueConsumer.requeue_message = settle_or_drop(QueueConsumer.requeue_message)

    from .rpc import harden_responder

    harden_responder()
    _hardened = True


def grace_seconds(config: dict | None = None) -> float:
    value = (config or {}).get("STOP_GRACE") or os.environ.get("STOP_GRACE", "10")
    return float(value)


def serve(service_cls, config: dict) -> int:
    """Run one service until SIGTERM or SIGINT; stop it gracefully, once. Returns 0."""
    import eventlet
    from nameko.runners import ServiceRunner

    harden_nameko()
    runner = ServiceRunner(config)
    runner.add_service(service_cls)
    grace = grace_seconds(config)
    state = {"stopping": False}

    def stop_gracefully():
        timeout = eventlet.Timeout(grace)
        try:
            runner.stop()
            log.info("stopped")
        except eventlet.Timeout as exc:
            if exc is not timeout:
                raise
            log.warning("workers still running after %.0f s: killing them (their unacked messages "
                        "return to the queue)", grace)
            runner.kill()
        finally:
            timeout.cancel()

    def on_signal(signum, frame):
        # runs in the main loop: no eventlet waits here, only spawn
        # logged in a context of its own: not under the call id of whichever worker was running
        name = signal.Signals(signum).name
        if state["stopping"]:
            contextvars.Context().run(log.info, "%s: already stopping", name)
            return
        state["stopping"] = True
        contextvars.Context().run(log.info, "%s: stopping (grace %.0f s)", name, grace)
        eventlet.spawn_n(stop_gracefully)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGUSR2, lambda signum, frame: eventlet.spawn_n(log_green_stacks))
    runner.start()
    # a signal arriving while the hub waits on a socket surfaces as EINTR in the waiting
    # greenlet: wait for the runner in a greenlet of its own and ignore those
    waiting = eventlet.spawn(runner.wait)
    while True:
        try:
            waiting.wait()
            break
        except OSError as exc:
            if exc.errno != errno.EINTR:
                raise
    return 0


def green_stacks() -> str:
    """The stack of every live greenthread (what a thread dump is for a threaded program)."""
    import gc
    import traceback

    import greenlet

    parts = []
    for obj in gc.get_objects():
        if isinstance(obj, greenlet.greenlet) and obj.gr_frame is not None:
            parts.append("".join(traceback.format_stack(obj.gr_frame)))
    return f"{len(parts)} greenthreads\n" + "\n---\n".join(parts)


def log_green_stacks() -> None:
    """SIGUSR2: log every greenthread's stack (``kill -USR2 <pid>``), to see what a stuck
    service waits on; py-spy sees only the running greenthread."""
    log.warning("greenthread stacks on SIGUSR2: %s", green_stacks())


def exit_now(code: int) -> None:
    """Leave the process at once after a clean stop: flush logs and streams, then ``_exit``.
    The interpreter's own teardown with eventlet's hub still running took another second and
    does nothing we need (every connection and transaction is already closed)."""
    import sys

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(code)
