"""fee window (C8) in the copy of staff's windows

Revision ID: a477860246bc
Revises: b7cc207eeada
Create Date: 2026-11-29 03:34:36.215227
"""
from alembic import op
import sqlalchemy as sa


revision = 'a477860246bc'
down_revision = 'b7cc207eeada'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('org_windows', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fee_window', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('org_windows', schema=None) as batch_op:
        batch_op.drop_column('fee_window')
