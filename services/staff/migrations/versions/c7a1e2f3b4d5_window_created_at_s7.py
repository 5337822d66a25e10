"""window created_at (S7): a window may be the red-flag window only for a quarter it served whole

Existing windows are given their township's creation time (the earliest a window can have
existed; nothing else records it).

Revision ID: c7a1e2f3b4d5
Revises: f496e40b0a93
Create Date: 2026-11-29 04:40:00
"""
from alembic import op
import sqlalchemy as sa

import services.common.db


revision = 'c7a1e2f3b4d5'
down_revision = 'f496e40b0a93'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('windows', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE windows SET created_at = (SELECT townships.created_at FROM townships "
               "WHERE townships.id = windows.township_id)")


def downgrade():
    with op.batch_alter_table('windows', schema=None) as batch_op:
        batch_op.drop_column('created_at')
