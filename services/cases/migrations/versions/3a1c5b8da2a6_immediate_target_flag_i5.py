"""immediate target flag (I5)

Revision ID: 3a1c5b8da2a6
Revises: 52d930116c23
Create Date: 2026-11-29 00:43:35.903447
"""
from alembic import op
import sqlalchemy as sa
import services.common.db


revision = '3a1c5b8da2a6'
down_revision = '52d930116c23'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('target_flagged_at', services.common.db.UTCDateTime(timezone=True), nullable=True))



def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('target_flagged_at')

