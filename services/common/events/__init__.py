"""Event schemas, defined once (ARCHITECTURE "Events").

Every event is a flat JSON object: the envelope (``event_id``, ``event_type``,
``township_id``, ``occurred_at``, ``schema_version``) plus the fields of its own schema.
Names are past tense, ``<service>.<fact>``; the routing key on the ``<service>.events``
exchange is the ``<fact>`` part, so nameko's ``event_handler(service, fact)`` receives it.

Each source service keeps its schemas in its own module here (``staff.py``, ``intake.py``,
…) and registers them with :func:`register`.
"""
from __future__ import annotations

from .base import REGISTRY, Envelope, UnknownEvent, build, build_many, parse, register, routing  # noqa: F401

# every source's schemas, registered on import (they build on .base, never on this package)
from . import cases, complaints, intake, lending, staff  # noqa: F401,E402  isort: skip
