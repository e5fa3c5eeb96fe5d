"""claims: done once per kind, subject and person (meeting reminders); how reminders and changes reach people; calendar feeds

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 17:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('claim',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lateness_ms', sa.Integer(), server_default='0', nullable=False),
    sa.CheckConstraint("outcome IN ('sent', 'missed', 'skipped')", name=op.f('ck_claim_outcome_known')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_claim_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim')),
    sa.UniqueConstraint('kind', 'subject', 'user_id', name='uq_claim_kind_subject_user')
    )
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.create_index('ix_claim_kind_done_at', ['kind', 'done_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_claim_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('meeting_reminders', sa.String(length=5), server_default='app', nullable=False))
        batch_op.add_column(sa.Column('meeting_changes', sa.String(length=5), server_default='app', nullable=False))
        batch_op.add_column(sa.Column('calendar_token', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_user_calendar_token'), ['calendar_token'])
        batch_op.create_check_constraint('meeting_reminders_known', "meeting_reminders IN ('app', 'email', 'off')")
        batch_op.create_check_constraint('meeting_changes_known', "meeting_changes IN ('app', 'email', 'off')")



def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_user_meeting_changes_known'), type_='check')
        batch_op.drop_constraint(op.f('ck_user_meeting_reminders_known'), type_='check')
        batch_op.drop_constraint(batch_op.f('uq_user_calendar_token'), type_='unique')
        batch_op.drop_column('calendar_token')
        batch_op.drop_column('meeting_changes')
        batch_op.drop_column('meeting_reminders')

    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_user_id'))
        batch_op.drop_index('ix_claim_kind_done_at')

    op.drop_table('claim')
