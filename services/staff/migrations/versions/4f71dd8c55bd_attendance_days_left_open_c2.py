"""attendance days left open (C2)

Revision ID: 4f71dd8c55bd
Revises: 161ca713f862
Create Date: 2026-11-29 00:30:04.817454
"""
from alembic import op
import sqlalchemy as sa


revision = '4f71dd8c55bd'
down_revision = '161ca713f862'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attendance_closures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=10), server_default='closed', nullable=False))



def downgrade():
    with op.batch_alter_table('attendance_closures', schema=None) as batch_op:
        batch_op.drop_column('state')

