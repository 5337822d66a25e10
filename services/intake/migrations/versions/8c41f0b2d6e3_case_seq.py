"""applications.case_seq: the seq of the case_transitioned event applied

Revision ID: 8c41f0b2d6e3
Revises: 30bf3430b341
Create Date: 2026-11-29 01:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '8c41f0b2d6e3'
down_revision = '30bf3430b341'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('case_seq', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_column('case_seq')
