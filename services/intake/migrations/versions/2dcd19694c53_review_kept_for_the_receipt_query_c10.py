"""the review (C10) kept for the receipt query

Revision ID: 2dcd19694c53
Revises: d0143beda92d
Create Date: 2026-11-29 03:50:34.014020
"""
from alembic import op
import sqlalchemy as sa
import services.common.db


revision = '2dcd19694c53'
down_revision = 'd0143beda92d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_subject', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('review_state', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('review_outcome', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('review_answer', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('review_due_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('review_requested_at', services.common.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('review_decided_at', services.common.db.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_column('review_decided_at')
        batch_op.drop_column('review_requested_at')
        batch_op.drop_column('review_due_date')
        batch_op.drop_column('review_answer')
        batch_op.drop_column('review_outcome')
        batch_op.drop_column('review_state')
        batch_op.drop_column('review_subject')
