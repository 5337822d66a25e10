"""arranged duties (S4/C2a): work on a closed day is overtime only when the director arranged it

Revision ID: e4c9a1b2d3f7
Revises: d8b2f3a4c5e6
Create Date: 2026-11-29 04:50:00
"""
from alembic import op
import sqlalchemy as sa

import services.common.db


revision = 'e4c9a1b2d3f7'
down_revision = 'd8b2f3a4c5e6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'arranged_duties',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('person_id', sa.String(length=32), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('arranged_by', sa.String(length=32), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('township_id', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('township_id', 'person_id', 'day'),
    )
    op.create_index(op.f('ix_arranged_duties_person_id'), 'arranged_duties', ['person_id'], unique=False)
    op.create_index(op.f('ix_arranged_duties_day'), 'arranged_duties', ['day'], unique=False)
    op.create_index(op.f('ix_arranged_duties_township_id'), 'arranged_duties', ['township_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_arranged_duties_township_id'), table_name='arranged_duties')
    op.drop_index(op.f('ix_arranged_duties_day'), table_name='arranged_duties')
    op.drop_index(op.f('ix_arranged_duties_person_id'), table_name='arranged_duties')
    op.drop_table('arranged_duties')
