"""Review pages name what is reviewed in words ("Point set 12") and list only the keys they act on."""

import re

import pytest
from django.urls import reverse

from annotation_app.models import PointSet

pytestmark = pytest.mark.django_db


def keys_legend(html: str) -> str:
    legend = re.search(r'<p class="keys" id="review-keys">(.*?)</p>', html, flags=re.DOTALL)
    assert legend, "the page has no key legend"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", legend.group(1))).strip()


@pytest.mark.parametrize(("project", "name", "legend"), [
    ("points_project", "Point set", "a accept · r reject · j/k next/previous"),
    ("ask_project", "Ask thread", "a accept · r reject · j/k next/previous"),
    ("caption_project", "Caption", "a accept · r reject · e edit · j/k next/previous · p play/pause"),
])
def test_headings_queue_and_keys_per_kind(seeded, client_as, project, name, legend):
    project = seeded[project]
    html = client_as(seeded["reviewer"]).get(reverse("dashboard:review", args=[project.pk])).content.decode()
    heading = re.search(r"<h1>(.*?)\s*<span class=\"badge", html, flags=re.DOTALL).group(1).strip()
    assert re.fullmatch(rf"{name} \d+", heading), heading
    assert re.search(rf'data-target="\d+">{name} \d+ · ', html)
    assert "Pointset" not in html and "Askthread" not in html and not re.search(r"#\d", html)
    assert keys_legend(html) == legend


def test_a_finished_queue_lists_no_keys(seeded, client_as):
    project = seeded["points_project"]
    PointSet.objects.filter(work_item__project=project).update(review_status="accepted")
    html = client_as(seeded["reviewer"]).get(reverse("dashboard:review", args=[project.pk])).content.decode()
    assert "Nothing to review" in html and 'id="review-keys"' not in html
