"""reviews keep the period they were given (C10, C2: a recount after a calendar change counts it)

Revision ID: c10a7d3e5f21
Revises: 6320e3b3b8fd
Create Date: 2026-11-29 04:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'c10a7d3e5f21'
down_revision = '6320e3b3b8fd'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('working_days', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_column('working_days')
