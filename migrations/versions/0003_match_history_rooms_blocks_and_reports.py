"""match history, rooms, blocks and reports

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 03:53:01.952535

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('block',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('blocker_id', sa.Integer(), nullable=False),
    sa.Column('blocked_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('blocker_id <> blocked_id', name=op.f('ck_block_not_self')),
    sa.ForeignKeyConstraint(['blocked_id'], ['user.id'], name=op.f('fk_block_blocked_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['blocker_id'], ['user.id'], name=op.f('fk_block_blocker_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_block')),
    sa.UniqueConstraint('blocker_id', 'blocked_id', name='uq_block_pair')
    )
    with op.batch_alter_table('block', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_block_blocked_id'), ['blocked_id'], unique=False)

    op.create_table('match_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user1_id', sa.Integer(), nullable=False),
    sa.Column('user2_id', sa.Integer(), nullable=False),
    sa.Column('matched_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('user1_id < user2_id', name=op.f('ck_match_history_pair_ordered')),
    sa.ForeignKeyConstraint(['user1_id'], ['user.id'], name=op.f('fk_match_history_user1_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user2_id'], ['user.id'], name=op.f('fk_match_history_user2_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_history')),
    sa.UniqueConstraint('user1_id', 'user2_id', name='uq_match_history_pair')
    )
    with op.batch_alter_table('match_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_history_user2_id'), ['user2_id'], unique=False)

    op.create_table('matched_room',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user1_id', sa.Integer(), nullable=False),
    sa.Column('user2_id', sa.Integer(), nullable=False),
    sa.Column('matched_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=20), server_default='', nullable=False),
    sa.CheckConstraint('user1_id < user2_id', name=op.f('ck_matched_room_pair_ordered')),
    sa.ForeignKeyConstraint(['user1_id'], ['user.id'], name=op.f('fk_matched_room_user1_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user2_id'], ['user.id'], name=op.f('fk_matched_room_user2_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_matched_room'))
    )
    with op.batch_alter_table('matched_room', schema=None) as batch_op:
        batch_op.create_index('ix_matched_room_user1_id_user2_id', ['user1_id', 'user2_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_matched_room_user2_id'), ['user2_id'], unique=False)

    op.create_table('report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=False),
    sa.Column('reported_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('text', sa.Text(), server_default='', nullable=False),
    sa.Column('context', sa.String(length=20), server_default='profile', nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("reason IN ('harassment', 'spam', 'inappropriate', 'underage', 'other')", name=op.f('ck_report_reason_known')),
    sa.CheckConstraint('reporter_id <> reported_id', name=op.f('ck_report_not_self')),
    sa.ForeignKeyConstraint(['reported_id'], ['user.id'], name=op.f('fk_report_reported_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reporter_id'], ['user.id'], name=op.f('fk_report_reporter_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['room_id'], ['matched_room.id'], name=op.f('fk_report_room_id_matched_room'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report'))
    )
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_reported_id'), ['reported_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_reporter_id'), ['reporter_id'], unique=False)



def downgrade():
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_reporter_id'))
        batch_op.drop_index(batch_op.f('ix_report_reported_id'))

    op.drop_table('report')
    with op.batch_alter_table('matched_room', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_matched_room_user2_id'))
        batch_op.drop_index('ix_matched_room_user1_id_user2_id')

    op.drop_table('matched_room')
    with op.batch_alter_table('match_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_history_user2_id'))

    op.drop_table('match_history')
    with op.batch_alter_table('block', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_block_blocked_id'))

    op.drop_table('block')
