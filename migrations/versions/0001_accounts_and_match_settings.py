"""accounts and match settings

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 02:20:52.441168

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=30), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('display_name', sa.String(length=50), nullable=False),
    sa.Column('age', sa.Integer(), nullable=False),
    sa.Column('gender', sa.String(length=6), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('timezone', sa.String(length=64), server_default='Asia/Seoul', nullable=False),
    sa.Column('language', sa.String(length=5), server_default='en', nullable=False),
    sa.Column('date_joined', sa.DateTime(timezone=True), nullable=False),
    sa.Column('is_active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('is_staff', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.CheckConstraint("gender IN ('male', 'female')", name=op.f('ck_user_gender_known')),
    sa.CheckConstraint('age BETWEEN 18 AND 120', name=op.f('ck_user_age_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user')),
    sa.UniqueConstraint('phone', name=op.f('uq_user_phone')),
    sa.UniqueConstraint('username', name=op.f('uq_user_username'))
    )
    op.create_table('match_setting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('age_min', sa.Integer(), server_default='18', nullable=False),
    sa.Column('age_max', sa.Integer(), server_default='99', nullable=False),
    sa.Column('radius_km', sa.Integer(), server_default='1', nullable=False),
    sa.Column('preferred_gender', sa.String(length=6), server_default='any', nullable=False),
    sa.CheckConstraint("preferred_gender IN ('male', 'female', 'any')", name=op.f('ck_match_setting_gender_known')),
    sa.CheckConstraint('age_min <= age_max', name=op.f('ck_match_setting_age_order')),
    sa.CheckConstraint('age_min >= 18 AND age_max <= 120', name=op.f('ck_match_setting_age_bounds')),
    sa.CheckConstraint('radius_km >= 1', name=op.f('ck_match_setting_radius_positive')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_match_setting_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_setting')),
    sa.UniqueConstraint('user_id', name=op.f('uq_match_setting_user_id'))
    )
    op.create_table('user_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('user_agent', sa.String(length=200), server_default='', nullable=False),
    sa.Column('ip', sa.String(length=45), server_default='', nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_user_session_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_session')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_user_session_token_hash'))
    )
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_session_user_id'), ['user_id'], unique=False)



def downgrade():
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_session_user_id'))

    op.drop_table('user_session')
    op.drop_table('match_setting')
    op.drop_table('user')
