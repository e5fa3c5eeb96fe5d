"""book-club meetings and their participants; a conversation's title and when a member left

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 14:44:39

"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('meeting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('book_id', sa.Integer(), nullable=False),
    sa.Column('leader_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('going', sa.Integer(), server_default='0', nullable=False),
    sa.Column('online', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('place', sa.String(length=200), server_default='', nullable=False),
    sa.Column('status', sa.String(length=10), server_default='scheduled', nullable=False),
    sa.Column('moment', sa.String(length=10), server_default='', nullable=False),
    sa.Column('conversation_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('scheduled', 'cancelled', 'finished')", name=op.f('ck_meeting_status_known')),
    sa.CheckConstraint('capacity >= 2 AND capacity <= 50', name=op.f('ck_meeting_capacity_range')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_meeting_ends_after_start')),
    sa.CheckConstraint('going >= 0 AND going <= capacity', name=op.f('ck_meeting_going_within_capacity')),
    sa.ForeignKeyConstraint(['book_id'], ['book.id'], name=op.f('fk_meeting_book_id_book')),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], name=op.f('fk_meeting_conversation_id_conversation')),
    sa.ForeignKeyConstraint(['leader_id'], ['user.id'], name=op.f('fk_meeting_leader_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting')),
    sa.UniqueConstraint('conversation_id', name=op.f('uq_meeting_conversation_id'))
    )
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_book_id'), ['book_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_meeting_leader_id'), ['leader_id'], unique=False)
        batch_op.create_index('ix_meeting_status_starts_at', ['status', 'starts_at'], unique=False)

    op.create_table('meeting_participant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=10), server_default='member', nullable=False),
    sa.Column('state', sa.String(length=10), server_default='going', nullable=False),
    sa.Column('joined_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('offer_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('leader', 'member')", name=op.f('ck_meeting_participant_role_known')),
    sa.CheckConstraint("state IN ('going', 'waitlisted', 'left', 'removed')", name=op.f('ck_meeting_participant_state_known')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_meeting_participant_meeting_id_meeting'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_meeting_participant_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_participant')),
    sa.UniqueConstraint('meeting_id', 'user_id', name='uq_meeting_participant')
    )
    with op.batch_alter_table('meeting_participant', schema=None) as batch_op:
        batch_op.create_index('ix_meeting_participant_user_id_state', ['user_id', 'state'], unique=False)

    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title', sa.String(length=100), server_default='', nullable=False))

    with op.batch_alter_table('conversation_member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('left_at', sa.DateTime(timezone=True), nullable=True))



def downgrade():
    with op.batch_alter_table('conversation_member', schema=None) as batch_op:
        batch_op.drop_column('left_at')

    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.drop_column('title')

    with op.batch_alter_table('meeting_participant', schema=None) as batch_op:
        batch_op.drop_index('ix_meeting_participant_user_id_state')

    op.drop_table('meeting_participant')
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_index('ix_meeting_status_starts_at')
        batch_op.drop_index(batch_op.f('ix_meeting_leader_id'))
        batch_op.drop_index(batch_op.f('ix_meeting_book_id'))

    op.drop_table('meeting')
