"""A bounded schemathesis run over every operation of the gateway's OpenAPI document (issue 7,
Must show 6, the fuzzing half; the table of hostile inputs is tests/e2e/test_hostile_input.py).

The whole system runs as processes on PostgreSQL; every operation gets a few generated
requests (valid and invalid, a fixed seed, so a failure reproduces) with a director's token.
The answer must never be a 5xx, and must be what the document promises: a documented status,
content type and body (issue 10). ``CHECKS`` is the one list of what is checked.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, seed, settings
from schemathesis.checks import (
    content_type_conformance, not_a_server_error, response_schema_conformance, status_code_conformance,
)

from gateway.openapi import build_spec
from gateway.service import GatewayService
from tests.support.fullsystem import full_system

pytestmark = pytest.mark.e2e

CODE = "fuzz-town"
SEED = 20261129
EXAMPLES = 3  # per operation (and generation mode): the run stays well under a minute

CHECKS = [
    not_a_server_error,
    # every answer is one the document lists (issue 10): its status, its content type, and its
    # body valid against that status's schema (an output contract of services/contracts, or Error)
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

# the fuzzing phase only (the coverage phase alone sends dozens of requests per operation)
CONFIG = schemathesis.Config.from_dict({
    "seed": SEED,
    "phases": {"examples": {"enabled": False}, "coverage": {"enabled": False}, "stateful": {"enabled": False}},
})
schema = schemathesis.openapi.from_dict(build_spec(GatewayService), config=CONFIG)


@pytest.fixture(scope="module")
def fuzz_system(broker, postgres, tmp_path_factory):
    with full_system(broker.uri, postgres, tmp_path_factory.mktemp("fuzz"), CODE) as sys_:
        yield sys_


@schema.parametrize()
@seed(SEED)
@settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=False,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_no_operation_answers_5xx(case, fuzz_system):
    response = case.call_and_validate(base_url=fuzz_system["api"].base, checks=CHECKS, timeout=30,
                                      headers={"Authorization": f"Bearer {fuzz_system['boss'].token}"})
    CALLED.setdefault(f"{case.method.upper()} {case.path}", []).append(response.status_code)


CALLED: dict = {}


def test_the_run_reached_every_operation(fuzz_system):
    """The run above is not vacuous: every operation of the document got requests."""
    operations = {f"{method.upper()} {path}" for path, item in schema.raw_schema["paths"].items()
                  for method in item if method in ("get", "post", "put", "patch", "delete")}
    assert operations and operations <= set(CALLED), sorted(operations - set(CALLED))[:10]
