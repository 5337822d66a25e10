"""Each service's alembic history has exactly one head: two changes that each added a revision
on the same parent would leave `upgrade head` ambiguous and the service unable to start."""
import pytest
from alembic.script import ScriptDirectory

from services.common.migrate import alembic_config

from pathlib import Path

SERVICES = sorted(p.parent.name for p in (Path(__file__).resolve().parents[3] / "services").glob("*/migrations"))


@pytest.mark.parametrize("service", SERVICES)
def test_one_migration_head_per_service(service):
    script = ScriptDirectory.from_config(alembic_config(service, url="sqlite://"))
    heads = script.get_heads()
    assert len(heads) == 1, f"{service} has {len(heads)} migration heads: {heads}; re-point one down_revision"
