"""The receipt guessing limit holds under concurrent guesses (I4; ARCHITECTURE: the limit is
kept in intake so every gateway instance shares it): 30 wrong guesses at once at one number
get exactly the allowed number of 404s, the rest 429 — never more tries than the limit."""
from __future__ import annotations

import eventlet
import pytest
from nameko.exceptions import RemoteError

from services.common.errors import NotFound, TooManyAttempts
from tests.support.runtime import rpc_proxy
from tests.support.system import running_services

pytestmark = pytest.mark.integration


def test_parallel_wrong_guesses_never_exceed_the_limit(broker, database):
    with running_services(broker.uri, database, ["intake"], max_workers=30):
        context = {"township_id": "t-guess", "roles": ["public"]}
        outcomes = []

        def guess(i):
            with rpc_proxy(broker.uri, context) as proxy:
                try:
                    proxy.intake.query_receipt("20260301-NOSUCHNUMB", f"wrong{i}", f"198.51.100.{i}")
                    outcomes.append("ok")
                except NotFound:
                    outcomes.append(404)
                except TooManyAttempts:
                    outcomes.append(429)
                except RemoteError as exc:  # anything else is a failure of the test
                    outcomes.append(exc.exc_type)

        pool = eventlet.GreenPool(30)
        for i in range(30):
            pool.spawn(guess, i)
        pool.waitall()
        assert outcomes.count(404) == 5  # the default limit: 5 failures per number per 15 minutes
        assert outcomes.count(429) == 25
