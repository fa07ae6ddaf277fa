"""share links: the token is no longer stored, only its sha256 (in the old `token` column) and the nonce
it is derived from with the server's secret key (HMAC)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 03:35:00
"""
import hashlib

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('share_links', schema=None) as batch_op:
        batch_op.add_column(sa.Column('nonce', sa.String(length=32), nullable=True))
    conn = op.get_bind()
    for link_id, token in conn.execute(sa.text("SELECT id, token FROM share_links")).fetchall():
        digest = hashlib.sha256(token.encode()).hexdigest()  # links made before keep working, unshown
        conn.execute(sa.text("UPDATE share_links SET token = :h WHERE id = :i"), {"h": digest, "i": link_id})


def downgrade() -> None:
    with op.batch_alter_table('share_links', schema=None) as batch_op:
        batch_op.drop_column('nonce')
