"""book catalog (books, authors and credits, categories, search pieces, bestseller ranks) and
the runs operators watch on /ops/runs

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 14:15:45

"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('author',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_author')),
    sa.UniqueConstraint('name', name=op.f('uq_author_name'))
    )
    op.create_table('category',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=300), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('aladin_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_category')),
    sa.UniqueConstraint('path', name=op.f('uq_category_path'))
    )
    with op.batch_alter_table('category', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_category_name'), ['name'], unique=False)

    op.create_table('job_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=10), server_default='running', nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), server_default='', nullable=False),
    sa.CheckConstraint("status IN ('running', 'ok', 'failed')", name=op.f('ck_job_run_status_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_run'))
    )
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.create_index('ix_job_run_kind_started_at', ['kind', 'started_at'], unique=False)

    op.create_table('book',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('isbn13', sa.String(length=13), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('publisher', sa.String(length=200), server_default='', nullable=False),
    sa.Column('published_on', sa.Date(), nullable=True),
    sa.Column('cover_url', sa.String(length=500), server_default='', nullable=False),
    sa.Column('list_price', sa.Integer(), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('sales_point', sa.Integer(), server_default='0', nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('search_key', sa.Text(), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("source IN ('aladin', 'sample')", name=op.f('ck_book_source_known')),
    sa.CheckConstraint('rating IS NULL OR (rating >= 0 AND rating <= 10)', name=op.f('ck_book_rating_range')),
    sa.ForeignKeyConstraint(['category_id'], ['category.id'], name=op.f('fk_book_category_id_category'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_book')),
    sa.UniqueConstraint('isbn13', name=op.f('uq_book_isbn13'))
    )
    with op.batch_alter_table('book', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_book_category_id'), ['category_id'], unique=False)
        batch_op.create_index('ix_book_sales_point_id', ['sales_point', 'id'], unique=False)

    op.create_table('book_author',
    sa.Column('book_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=30), server_default='', nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['author.id'], name=op.f('fk_book_author_author_id_author'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['book_id'], ['book.id'], name=op.f('fk_book_author_book_id_book'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('book_id', 'position', name=op.f('pk_book_author'))
    )
    with op.batch_alter_table('book_author', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_book_author_author_id'), ['author_id'], unique=False)

    op.create_table('book_gram',
    sa.Column('gram', sa.String(length=2), nullable=False),
    sa.Column('book_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['book_id'], ['book.id'], name=op.f('fk_book_gram_book_id_book'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('gram', 'book_id', name=op.f('pk_book_gram'))
    )
    with op.batch_alter_table('book_gram', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_book_gram_book_id'), ['book_id'], unique=False)

    op.create_table('book_rank',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('book_id', sa.Integer(), nullable=False),
    sa.Column('list_name', sa.String(length=40), nullable=False),
    sa.Column('ranked_on', sa.Date(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['book_id'], ['book.id'], name=op.f('fk_book_rank_book_id_book'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_book_rank')),
    sa.UniqueConstraint('list_name', 'ranked_on', 'book_id', name='uq_book_rank_list_day_book')
    )
    with op.batch_alter_table('book_rank', schema=None) as batch_op:
        batch_op.create_index('ix_book_rank_book_id_ranked_on', ['book_id', 'ranked_on'], unique=False)



def downgrade():
    with op.batch_alter_table('book_rank', schema=None) as batch_op:
        batch_op.drop_index('ix_book_rank_book_id_ranked_on')

    op.drop_table('book_rank')
    with op.batch_alter_table('book_gram', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_book_gram_book_id'))

    op.drop_table('book_gram')
    with op.batch_alter_table('book_author', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_book_author_author_id'))

    op.drop_table('book_author')
    with op.batch_alter_table('book', schema=None) as batch_op:
        batch_op.drop_index('ix_book_sales_point_id')
        batch_op.drop_index(batch_op.f('ix_book_category_id'))

    op.drop_table('book')
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.drop_index('ix_job_run_kind_started_at')

    op.drop_table('job_run')
    with op.batch_alter_table('category', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_category_name'))

    op.drop_table('category')
    op.drop_table('author')
