"""system messages without a sender; a conversation's pinned message; where a member left

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 16:34:16

"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pinned_seq', sa.Integer(), nullable=True))

    with op.batch_alter_table('conversation_member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('left_seq', sa.Integer(), nullable=True))

    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_message_type_known'), type_='check')
        batch_op.alter_column('sender_id', existing_type=sa.INTEGER(), nullable=True)
        batch_op.alter_column('type', existing_type=sa.VARCHAR(length=5), type_=sa.String(length=6),
                              existing_nullable=False, existing_server_default=sa.text("'text'"))
        batch_op.create_check_constraint(
            batch_op.f('ck_message_type_known'), "type IN ('text', 'image', 'file', 'system')"
        )


def downgrade():
    op.execute("DELETE FROM message WHERE type = 'system'")
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_message_type_known'), type_='check')
        batch_op.alter_column('type', existing_type=sa.String(length=6), type_=sa.VARCHAR(length=5),
                              existing_nullable=False, existing_server_default=sa.text("'text'"))
        batch_op.alter_column('sender_id', existing_type=sa.INTEGER(), nullable=False)
        batch_op.create_check_constraint(batch_op.f('ck_message_type_known'), "type IN ('text', 'image', 'file')")

    with op.batch_alter_table('conversation_member', schema=None) as batch_op:
        batch_op.drop_column('left_seq')

    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.drop_column('pinned_seq')
