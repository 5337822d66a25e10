"""harden_nameko (services/common/stopping.py): nameko 2.14's traps on today's libraries."""
from __future__ import annotations

import pytest
from nameko.messaging import QueueConsumer

from services.common.stopping import harden_nameko


class _Message:
    """A delivered message whose channel's socket is gone: settling it raises ``error``."""

    def __init__(self, error):
        self.channel = type("Channel", (), {"connection": object()})()  # not yet seen as closed
        self.error = error
        self.calls = []

    def ack(self):
        self.calls.append("ack")
        raise self.error

    def requeue(self):
        self.calls.append("requeue")
        raise self.error


@pytest.mark.parametrize("error", [BrokenPipeError(32, "Broken pipe"),
                                   ConnectionResetError(104, "Connection reset by peer")])
@pytest.mark.parametrize("settle", ["ack_message", "requeue_message"])
def test_an_ack_on_a_lost_broker_link_is_dropped_not_raised_into_the_container(error, settle):
    # Before: the BrokenPipeError left the worker and nameko killed the cases container; the
    # process exited in the middle of a broker cut and never came back.
    harden_nameko()
    message = _Message(error)
    getattr(QueueConsumer, settle)(object.__new__(QueueConsumer), message)
    assert message.calls == ["ack" if settle == "ack_message" else "requeue"]


def test_other_errors_of_an_ack_still_raise():
    harden_nameko()
    with pytest.raises(ValueError):
        QueueConsumer.ack_message(object.__new__(QueueConsumer), _Message(ValueError("a bug")))


def _sa(cls_name):
    from sqlalchemy import exc

    cls = getattr(exc, cls_name)
    return cls("SELECT 1", {}, Exception("boom")) if issubclass(cls, exc.DBAPIError) else cls("boom")


@pytest.mark.parametrize("error, unavailable", [
    (_sa("OperationalError"), True),  # connection refused or lost, "too many clients"
    (_sa("InterfaceError"), True),  # the connection was closed under us
    (_sa("TimeoutError"), True),  # the pool's wait for a connection ran out
    (_sa("DisconnectionError"), True),
    (_sa("IntegrityError"), False),  # a real conflict or a bug: not a retry's business
    (_sa("ProgrammingError"), False),
    (ValueError("bad"), False),
])
def test_which_errors_mean_the_database_is_unavailable(error, unavailable):
    from services.common.rpc import database_unavailable

    assert database_unavailable(error) is unavailable


def test_a_service_is_healthy_only_once_its_queue_consumers_consume():
    # nameko starts a container's extensions side by side: /health answered 200 while the event
    # queues were still being declared and bound, and an event published then was routed nowhere
    from eventlet.event import Event

    from services.common.service import check_health, consumers_check

    consumer = object.__new__(QueueConsumer)
    consumer._consumers_ready = Event()
    container = type("Container", (), {"subextensions": [consumer]})()
    assert consumers_check(container) == "starting"
    report = check_health("cases", {"AMQP_URI": "memory://"}, consumers=consumers_check(container))
    assert report["ok"] is False and report["checks"]["consumers"] == "starting"
    consumer._consumers_ready.send(None)
    assert consumers_check(container) == "ok"
    assert check_health("cases", {"AMQP_URI": "memory://"}, consumers="ok")["ok"] is True
