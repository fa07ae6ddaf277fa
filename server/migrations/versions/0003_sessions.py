"""sessions that end: a per-user session generation; events looked up by learner session

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 03:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_gen', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_session', ['guide_id', 'session'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_session')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_gen')
