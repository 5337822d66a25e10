"""running cases by due date: the overdue and reminder sweeps' candidates (C5, issue 9)

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

# as services.cases.models.RUNNING_STATES, frozen here
RUNNING = "state IN ('in_review', 'awaiting_departments', 'escalated')"


def upgrade():
    op.create_index('ix_cases_running_due', 'cases', ['due_date'], unique=False,
                    postgresql_where=sa.text(RUNNING), sqlite_where=sa.text(RUNNING))


def downgrade():
    op.drop_index('ix_cases_running_due', table_name='cases',
                  postgresql_where=sa.text(RUNNING), sqlite_where=sa.text(RUNNING))
