"""loan conditions and damage cause (L1, L3)

Revision ID: 7b98cd56b7b3
Revises: b7cdc2533d07
Create Date: 2026-11-29 01:17:31.118985
"""
from alembic import op
import sqlalchemy as sa
import services.common.db


revision = '7b98cd56b7b3'
down_revision = 'b7cdc2533d07'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('damage_cause', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('conditions', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('conditions_acknowledged_at', services.common.db.UTCDateTime(timezone=True), nullable=True))



def downgrade():
    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.drop_column('conditions_acknowledged_at')
        batch_op.drop_column('conditions')
        batch_op.drop_column('damage_cause')

