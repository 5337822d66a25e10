"""idempotency keys

Revision ID: b7cdc2533d07
Revises: c6933d6ac679
Create Date: 2026-11-29 00:28:18.424362
"""
from alembic import op
import sqlalchemy as sa
import services.common.db


revision = 'b7cdc2533d07'
down_revision = 'c6933d6ac679'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('idempotency_keys',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('township_id', sa.String(length=32), nullable=False),
    sa.Column('caller', sa.String(length=200), nullable=False),
    sa.Column('method', sa.String(length=100), nullable=False),
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('response', sa.Text(), nullable=False),
    sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_keys')),
    sa.UniqueConstraint('township_id', 'caller', 'method', 'key', name='uq_idempotency_keys_scope')
    )
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_keys_created_at'), ['created_at'], unique=False)



def downgrade():
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_keys_created_at'))

    op.drop_table('idempotency_keys')
