"""failed sign-ins in the database, so that every server process sharing it counts the same

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 03:55:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('signin_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('value', sa.String(length=320), nullable=False),
    sa.Column('at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('signin_failures', schema=None) as batch_op:
        batch_op.create_index('ix_signin_failures_key', ['kind', 'value', 'at'], unique=False)


def downgrade() -> None:
    op.drop_table('signin_failures')
