"""The RQ dashboard answers 404, not 500, to ids that name nothing: an instance number past the
configured Redis list, a job that does not exist, a page that is not a number."""

import pytest

from tests.conftest import login


@pytest.fixture
def staff(client, make_user):
    make_user("boss", is_staff=True)
    login(client, "boss")
    return client


@pytest.mark.parametrize(
    "path",
    ["/ops/rq/1/view/queues", "/ops/rq/7/", "/ops/rq/1/data/queues.json", "/ops/rq/1/view/workers",
     "/ops/rq/0/view/job/no-such-job", "/ops/rq/0/data/job/no-such-job.json",
     "/ops/rq/0/data/jobs/default/queued/x/asc/1.json", "/ops/rq/0/data/jobs/default/queued/8/asc/y.json",
     "/ops/rq/99999999999999999999/view/queues"],
)  # fmt: skip
def test_ids_that_name_nothing_are_404(staff, path):
    assert staff.get(path).status_code == 404


def test_the_real_instance_still_answers(staff):
    assert staff.get("/ops/rq/0/view/workers").status_code == 200
    assert staff.get("/ops/rq/0/data/jobs/default/queued/8/asc/1.json").status_code == 200
