"""cases.transitions: the number of C1 moves, sent as case_transitioned.seq

Revision ID: 5e0c2a7d9b14
Revises: 3a1c5b8da2a6
Create Date: 2026-11-29 01:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '5e0c2a7d9b14'
down_revision = '3a1c5b8da2a6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('transitions', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('transitions')
