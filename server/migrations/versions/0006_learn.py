"""learning records: quizzes per guide version, learner records, the xAPI outbox

Revision ID: 0006_learn
Revises: 0005
Create Date: 2026-12-02 07:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006_learn'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('quizzes',
    sa.Column('guide_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('doc_json', sa.Text(), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['guide_id'], ['guides.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('guide_id', 'version')
    )
    op.create_table('learner_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('guide_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('learner', sa.String(length=340), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('opened_at', sa.DateTime(), nullable=True),
    sa.Column('practised_at', sa.DateTime(), nullable=True),
    sa.Column('practice_score', sa.Integer(), nullable=True),
    sa.Column('practice_json', sa.Text(), nullable=False),
    sa.Column('checked_at', sa.DateTime(), nullable=True),
    sa.Column('check_score', sa.Integer(), nullable=True),
    sa.Column('check_passed', sa.Boolean(), nullable=True),
    sa.Column('check_attempts', sa.Integer(), nullable=False),
    sa.Column('missed_json', sa.Text(), nullable=False),
    sa.Column('time_spent_s', sa.Integer(), nullable=False),
    sa.Column('recheck_json', sa.Text(), nullable=True),
    sa.Column('recheck_version', sa.Integer(), nullable=True),
    sa.Column('notified_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['guide_id'], ['guides.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('guide_id', 'version', 'learner')
    )
    with op.batch_alter_table('learner_records', schema=None) as batch_op:
        batch_op.create_index('ix_learner_records_learner', ['learner'], unique=False)
    op.create_table('xapi_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.String(length=36), nullable=False),
    sa.Column('statement_json', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_try_at', sa.Float(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('statement_id')
    )
    with op.batch_alter_table('xapi_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_xapi_outbox_due', ['sent_at', 'next_try_at'], unique=False)


def downgrade() -> None:
    op.drop_table('xapi_outbox')
    op.drop_table('learner_records')
    op.drop_table('quizzes')
