"""appeal restores the window (S6): the window and post a removal took a person from, and when
an appeal lowering the measure put them back

Revision ID: d8b2f3a4c5e6
Revises: c7a1e2f3b4d5
Create Date: 2026-11-29 04:45:00
"""
from alembic import op
import sqlalchemy as sa

import services.common.db


revision = 'd8b2f3a4c5e6'
down_revision = 'c7a1e2f3b4d5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('accountability_cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('removed_window_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('removed_post', sa.String(length=1), nullable=True))
        batch_op.add_column(sa.Column('restored_at', services.common.db.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('accountability_cases', schema=None) as batch_op:
        batch_op.drop_column('restored_at')
        batch_op.drop_column('removed_post')
        batch_op.drop_column('removed_window_id')
