"""receipts become two positions per member (delivered_seq, last_read_seq), not a row per message

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 06:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# The newest message from others that reached the member (delivered or read), per member.
DELIVERED_FROM_ROWS = """
UPDATE conversation_member SET delivered_seq = COALESCE((
    SELECT MAX(message.seq) FROM delivery_receipt JOIN message ON message.id = delivery_receipt.message_id
    WHERE delivery_receipt.user_id = conversation_member.user_id
      AND message.conversation_id = conversation_member.conversation_id
      AND delivery_receipt.status IN ('delivered', 'read')
), 0)
"""
# Back to a row per message and recipient, its status read off the positions.
ROWS_FROM_POSITIONS = """
INSERT INTO delivery_receipt (message_id, user_id, status, updated_at)
SELECT message.id, conversation_member.user_id,
       CASE WHEN message.seq <= conversation_member.last_read_seq THEN 'read'
            WHEN message.seq <= conversation_member.delivered_seq THEN 'delivered'
            ELSE 'sent' END,
       message.updated_at
FROM message JOIN conversation_member
  ON conversation_member.conversation_id = message.conversation_id
 AND conversation_member.user_id != message.sender_id
"""


def upgrade():
    with op.batch_alter_table('conversation_member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivered_seq', sa.Integer(), server_default='0', nullable=False))
    op.execute(DELIVERED_FROM_ROWS)
    with op.batch_alter_table('delivery_receipt', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_receipt_user_id_status')
    op.drop_table('delivery_receipt')


def downgrade():
    op.create_table('delivery_receipt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=9), server_default='sent', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('sent', 'delivered', 'read')", name=op.f('ck_delivery_receipt_status_known')),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_delivery_receipt_message_id_message'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_delivery_receipt_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_receipt')),
    sa.UniqueConstraint('message_id', 'user_id', name='uq_delivery_receipt_message_user')
    )
    with op.batch_alter_table('delivery_receipt', schema=None) as batch_op:
        batch_op.create_index('ix_delivery_receipt_user_id_status', ['user_id', 'status'], unique=False)
    op.execute(ROWS_FROM_POSITIONS)
    with op.batch_alter_table('conversation_member', schema=None) as batch_op:
        batch_op.drop_column('delivered_seq')
