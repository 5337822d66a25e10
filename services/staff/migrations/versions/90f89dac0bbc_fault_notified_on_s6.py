"""fault notified on (S6)

Revision ID: 90f89dac0bbc
Revises: 4f71dd8c55bd
Create Date: 2026-11-29 00:59:56.645882
"""
from alembic import op
import sqlalchemy as sa


revision = '90f89dac0bbc'
down_revision = '4f71dd8c55bd'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('accountability_cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notified_on', sa.Date(), nullable=True))



def downgrade():
    with op.batch_alter_table('accountability_cases', schema=None) as batch_op:
        batch_op.drop_column('notified_on')

