"""accounts: sign-in accounts, operators and API keys with versions; wrong-password guards;
township suspension (replaces the token list)

Revision ID: 4fb39dfc06f3
Revises: 90f89dac0bbc
Create Date: 2026-11-29 00:28:29.798773
"""
from alembic import op
import sqlalchemy as sa
import services.common.db

revision = '4fb39dfc06f3'
down_revision = '90f89dac0bbc'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('accounts',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('township_id', sa.String(length=32), nullable=True),
    sa.Column('person_id', sa.String(length=32), nullable=True),
    sa.Column('username', sa.String(length=60), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=True),
    sa.Column('roles', sa.JSON(), nullable=True),
    sa.Column('password_hash', sa.Text(), nullable=True),
    sa.Column('code_hash', sa.String(length=64), nullable=True),
    sa.Column('code_expires_at', services.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('expires_at', services.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=True),
    sa.Column('revoked_at', services.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('person_id', name=op.f('uq_accounts_person_id')),
    sa.UniqueConstraint('username', name=op.f('uq_accounts_username'))
    )
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accounts_township_id'), ['township_id'], unique=False)

    op.create_table('sign_in_guards',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('locked_until', services.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_sign_in_guards'))
    )
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tokens_township_id'))

    op.drop_table('tokens')
    with op.batch_alter_table('townships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suspended', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))



def downgrade():
    with op.batch_alter_table('townships', schema=None) as batch_op:
        batch_op.drop_column('version')
        batch_op.drop_column('suspended')

    op.create_table('tokens',
    sa.Column('jti', sa.String(length=32), nullable=False),
    sa.Column('township_id', sa.String(length=32), nullable=True),
    sa.Column('person_id', sa.String(length=32), nullable=True),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('label', sa.Text(), nullable=True),
    sa.Column('issued_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', services.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', services.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('jti', name=op.f('pk_tokens'))
    )
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tokens_township_id'), ['township_id'], unique=False)

    op.drop_table('sign_in_guards')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accounts_township_id'))

    op.drop_table('accounts')
