"""fee window (C8): the one window of a township where fees are taken

Revision ID: bdfb100cfb82
Revises: e03fa0143bf9
Create Date: 2026-11-29 03:34:13.451497
"""
from alembic import op
import sqlalchemy as sa


revision = 'bdfb100cfb82'
down_revision = 'e03fa0143bf9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('windows', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fee_window', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('windows', schema=None) as batch_op:
        batch_op.drop_column('fee_window')
