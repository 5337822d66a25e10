"""overdue sweep candidates index (C5, issue 9)

Revision ID: d4e8f1a2b3c5
Revises: c10a7d3e5f21
Create Date: 2026-11-29 07:20:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = 'd4e8f1a2b3c5'
down_revision = 'c10a7d3e5f21'
branch_labels = None
depends_on = None

# as services.cases.models.OVERDUE_CANDIDATE (running and not yet overdue), frozen here
CANDIDATE = "overdue_at IS NULL AND state IN ('in_review', 'awaiting_departments', 'escalated')"


def upgrade():
    op.create_index('ix_cases_overdue_candidates', 'cases', ['due_date'], unique=False,
                    postgresql_where=sa.text(CANDIDATE), sqlite_where=sa.text(CANDIDATE))


def downgrade():
    op.drop_index('ix_cases_overdue_candidates', table_name='cases',
                  postgresql_where=sa.text(CANDIDATE), sqlite_where=sa.text(CANDIDATE))
