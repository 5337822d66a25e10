"""reviews (复核, C10) of a rejection or a return, and the returned applications they may concern

Revision ID: 6320e3b3b8fd
Revises: a477860246bc
Create Date: 2026-11-29 03:50:06.870742
"""
from alembic import op
import sqlalchemy as sa
import services.common.db


revision = '6320e3b3b8fd'
down_revision = 'a477860246bc'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('returned_applications',
    sa.Column('application_id', sa.String(length=64), nullable=False),
    sa.Column('receipt_no', sa.String(length=64), nullable=True),
    sa.Column('item_code', sa.String(length=64), nullable=False),
    sa.Column('handler_person_id', sa.String(length=32), nullable=False),
    sa.Column('returned_by', sa.String(length=32), nullable=True),
    sa.Column('signed_off_by', sa.String(length=32), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('returned_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('township_id', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('application_id', name=op.f('pk_returned_applications'))
    )
    with op.batch_alter_table('returned_applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_returned_applications_receipt_no'), ['receipt_no'], unique=False)
        batch_op.create_index(batch_op.f('ix_returned_applications_township_id'), ['township_id'], unique=False)

    op.create_table('reviews',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('receipt_no', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=20), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=True),
    sa.Column('application_id', sa.String(length=64), nullable=True),
    sa.Column('item_code', sa.String(length=64), nullable=True),
    sa.Column('first_deciders', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('filed_by', sa.String(length=32), nullable=True),
    sa.Column('requested_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('requested_on', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('provisional', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.String(length=32), nullable=True),
    sa.Column('decided_at', services.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reminded_at', services.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('overdue_at', services.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('township_id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_reviews_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews')),
    sa.UniqueConstraint('township_id', 'receipt_no', name=op.f('uq_reviews_township_id'))
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviews_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reviews_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_reviews_township_id'), ['township_id'], unique=False)


def downgrade():
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviews_township_id'))
        batch_op.drop_index(batch_op.f('ix_reviews_state'))
        batch_op.drop_index(batch_op.f('ix_reviews_case_id'))

    op.drop_table('reviews')
    with op.batch_alter_table('returned_applications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_returned_applications_township_id'))
        batch_op.drop_index(batch_op.f('ix_returned_applications_receipt_no'))

    op.drop_table('returned_applications')