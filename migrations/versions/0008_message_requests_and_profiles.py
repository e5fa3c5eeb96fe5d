"""message requests; who may send them; profile photo, bio and interests

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 10:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('message_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sender_id', sa.Integer(), nullable=False),
    sa.Column('recipient_name', sa.String(length=30), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=True),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=10), server_default='pending', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state IN ('pending', 'withheld', 'accepted', 'declined')",
                       name=op.f('ck_message_request_state_known')),
    sa.ForeignKeyConstraint(['recipient_id'], ['user.id'], name=op.f('fk_message_request_recipient_id_user'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sender_id'], ['user.id'], name=op.f('fk_message_request_sender_id_user'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_request'))
    )
    op.create_index('ix_message_request_sender_id_created_at', 'message_request', ['sender_id', 'created_at'])
    op.create_index('ix_message_request_recipient_id_state', 'message_request', ['recipient_id', 'state'])
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requests_from', sa.String(length=8), server_default='anyone', nullable=False))
        batch_op.add_column(sa.Column('bio', sa.String(length=300), server_default='', nullable=False))
        batch_op.add_column(sa.Column('interests', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('photo_name', sa.String(length=64), server_default='', nullable=False))
        batch_op.add_column(sa.Column('show_photo_on_offers', sa.Boolean(), server_default=sa.true(),
                                      nullable=False))
        batch_op.create_check_constraint('requests_from_known', "requests_from IN ('anyone', 'nobody')")


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_user_requests_from_known'), type_='check')
        batch_op.drop_column('show_photo_on_offers')
        batch_op.drop_column('photo_name')
        batch_op.drop_column('interests')
        batch_op.drop_column('bio')
        batch_op.drop_column('requests_from')
    op.drop_index('ix_message_request_recipient_id_state', table_name='message_request')
    op.drop_index('ix_message_request_sender_id_created_at', table_name='message_request')
    op.drop_table('message_request')
