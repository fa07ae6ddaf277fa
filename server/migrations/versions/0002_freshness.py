"""freshness: checks table, draft versions with a changelog

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('guide_id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('checked_at', sa.DateTime(), nullable=False),
    sa.Column('base_url', sa.String(length=500), nullable=True),
    sa.Column('scheduled', sa.Boolean(), nullable=False),
    sa.Column('baseline_tree', sa.String(length=64), nullable=False),
    sa.Column('capture_tree', sa.String(length=64), nullable=True),
    sa.Column('report_blob', sa.String(length=64), nullable=False),
    sa.Column('html_blob', sa.String(length=64), nullable=True),
    sa.Column('summary_json', sa.Text(), nullable=False),
    sa.Column('refreshed_version', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['guide_id'], ['guides.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('checks', schema=None) as batch_op:
        batch_op.create_index('ix_checks_guide', ['guide_id', 'id'], unique=False)
    with op.batch_alter_table('guide_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('draft', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('changelog_json', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('guide_versions', schema=None) as batch_op:
        batch_op.drop_column('changelog_json')
        batch_op.drop_column('draft')
    with op.batch_alter_table('checks', schema=None) as batch_op:
        batch_op.drop_index('ix_checks_guide')
    op.drop_table('checks')
