"""Test fixtures: a real RabbitMQ vhost and real PostgreSQL databases of the tests' own.

Where they come from, in order:
1. ``AMQP_URI`` / ``TEST_DATABASE_URL`` (or the local defaults) when they answer;
2. testcontainers, where a Docker daemon answers a ping;
3. otherwise the tests that need them are skipped with the reason — except under
   ``CI=true``, where a missing broker or database fails the run.

Each test module makes its own RabbitMQ vhost and its own databases and drops them at the
end, so the tests run beside a ``make run`` without touching it, and apart from each other.
"""
import os

# trio (pulled in by selenium) registers a hypothesis plugin that cannot import under eventlet's
# patched sockets: without this every pytest run crashes at its summary with exit code 1
os.environ.setdefault("HYPOTHESIS_NO_PLUGINS", "1")

from services.common.green import patch  # noqa: E402

patch()  # before anything imports sockets (ARCHITECTURE "Known traps")

import pytest  # noqa: E402

from tests.support import infra  # noqa: E402


def pytest_configure(config):
    os.environ.setdefault("EVENT_MAX_ATTEMPTS", "3")
    # the same nameko fixes the services run with: timers that may be stopped twice, consumers
    # that notice a stop within 0.1 s (tests stop dozens of containers)
    from services.common.stopping import harden_nameko

    harden_nameko()


@pytest.fixture(scope="module")
def broker():
    """(amqp_uri of a fresh vhost, management api) — real RabbitMQ. One vhost per test module,
    so queues and messages left by one module's services never reach another's."""
    with infra.rabbit_vhost() as info:
        yield info


@pytest.fixture(scope="module")
def amqp_uri(broker):
    return broker.uri


@pytest.fixture(scope="session")
def postgres():
    with infra.postgres_server() as server:
        yield server


def _database_factory(postgres):
    made = []

    def make(prefix="t"):
        url = postgres.create_database(prefix)
        made.append(url)
        return url

    return make, made


@pytest.fixture
def database(postgres):
    """A factory of fresh PostgreSQL databases (dropped after the test)."""
    make, made = _database_factory(postgres)
    yield make
    for url in made:
        postgres.drop_database(url)


@pytest.fixture(scope="module")
def module_database(postgres):
    """Like ``database``, for module-scoped systems: dropped after the module."""
    make, made = _database_factory(postgres)
    yield make
    for url in made:
        postgres.drop_database(url)
