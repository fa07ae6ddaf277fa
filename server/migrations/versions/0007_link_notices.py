"""share-link notices: on PostgreSQL, a change to share links, guides or versions sends
`NOTIFY guidecast_links` with its commit, so that every web process forgets which version each link shows
(server/livelinks.py); nothing on SQLite

Revision ID: 0007_link_notices
Revises: 0006_scale
Create Date: 2026-12-02 19:00:00
"""
from alembic import op


revision = '0007_link_notices'
down_revision = '0006_scale'
branch_labels = None
depends_on = None

TABLES = ('share_links', 'guides', 'guide_versions')


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("""
        CREATE OR REPLACE FUNCTION guidecast_links_changed() RETURNS trigger AS $$
        BEGIN
            PERFORM pg_notify('guidecast_links', TG_TABLE_NAME);
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql
    """)
    for table in TABLES:
        op.execute(f"CREATE TRIGGER {table}_links_changed AFTER INSERT OR UPDATE OR DELETE ON {table} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION guidecast_links_changed()")


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_links_changed ON {table}")
    op.execute("DROP FUNCTION IF EXISTS guidecast_links_changed()")
