"""calendar recompute marker: townships whose deadlines wait for a recompute (issue 7)

Revision ID: b7cc207eeada
Revises: 5e0c2a7d9b14
Create Date: 2026-11-29 00:50:32.376714
"""
from alembic import op
import sqlalchemy as sa
import services.common.db


revision = 'b7cc207eeada'
down_revision = '5e0c2a7d9b14'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('calendar_recompute',
    sa.Column('township_id', sa.String(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('pass_version', sa.Integer(), nullable=False),
    sa.Column('done_version', sa.Integer(), nullable=False),
    sa.Column('cursor', sa.String(length=32), nullable=True),
    sa.Column('passes', sa.Integer(), nullable=False),
    sa.Column('changed_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('done_at', services.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('township_id', name=op.f('pk_calendar_recompute'))
    )


def downgrade():
    op.drop_table('calendar_recompute')
