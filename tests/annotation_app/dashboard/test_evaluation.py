"""The evaluation page: what `pixmo eval` wrote in each run's eval/ folder, a chart comparing the
runs with Molmo's published averages (labelled as published), the PixMo numbers per run."""

import json

import pytest
from django.urls import reverse

from annotation_app.models import Role
from tests.annotation_app.browser_support import login
from tests.annotation_app.dashboard.test_browser import charts_drawn, chromium, page, shoot  # noqa: F401 - fixtures
from tests.annotation_app.dashboard.test_pages import chart
from tests.annotation_app.factories import UserFactory

pytestmark = pytest.mark.django_db


def write(path, payload) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(payload if isinstance(payload, str) else json.dumps(payload))


@pytest.fixture
def runs(settings, tmp_path):
    settings.PIXMO_RUNS_DIR = str(tmp_path / "runs")
    first, second = tmp_path / "runs" / "sft-a", tmp_path / "runs" / "sft-b"
    write(first / "eval" / "vqav2.json", {"benchmark": "vqav2", "title": "VQA v2", "metric": "VQA accuracy",
                                          "score": 60.0, "n": 40, "limit": 40})
    write(first / "eval" / "chartqa.json", {"benchmark": "chartqa", "title": "ChartQA", "metric": "relaxed accuracy",
                                            "score": 30.0, "n": 50, "limit": None})
    write(first / "eval" / "summary.json", {"benchmarks": [], "average": 45.0})  # the CLI's table: not a result
    write(first / "eval" / "pixmo-points-eval.test.json", {"dataset": "pixmo-points-eval", "split": "test", "precision": 0.5,
                                                      "recall": 0.25, "f1": 0.3333, "n_pointing": 12})
    write(second / "model" / "eval" / "vqav2.json", {"benchmark": "vqav2", "title": "VQA v2", "metric": "VQA accuracy",
                                                     "score": 70.0, "n": 40})
    write(second / "model" / "eval" / "pixmo-clocks.validation.json", {"dataset": "pixmo-clocks", "split": "validation",
                                                            "clock_exact": 0.1, "clock_hour_within_one": 0.6,
                                                            "clock_minute_within_one": 0.2, "n_clock": 10})
    write(second / "model" / "eval" / "broken.json", "{not json")
    (tmp_path / "runs" / "no-results").mkdir()
    return tmp_path / "runs"


def test_each_run_shows_its_benchmarks_average_and_pixmo_numbers(client, runs):
    client.force_login(UserFactory(role=Role.REVIEWER))
    response = client.get(reverse("dashboard:evaluation"))
    assert response.status_code == 200
    html = response.content.decode()
    assert [run.name for run in response.context["runs"]] == ["sft-a", "sft-b"]  # no-results has nothing to show
    assert response.context["benchmark_titles"] == ["ChartQA", "VQA v2"]
    assert '<tr data-run="sft-a">' in html and "<strong>45.0</strong> <span class=\"muted\">over 2 of 11</span>" in html
    assert "<strong>70.0</strong> <span class=\"muted\">over 1 of 11</span>" in html
    assert "pointing F1 <strong>33.3</strong> · pointing precision <strong>50.0</strong>" in html
    assert "clock exact <strong>10.0</strong> · clock hour within one <strong>60.0</strong>" in html
    assert "sft-b: could not read broken.json." in html
    average = chart(response, "chart-average")
    assert average["data"]["labels"][:2] == ["sft-a", "sft-b"]
    assert "Molmo-7B-D (published)" in average["data"]["labels"]
    datasets = {d["label"]: d["data"] for d in average["data"]["datasets"]}
    assert datasets["our runs (re-run here)"][:2] == [45.0, 70.0]
    assert datasets["published, not re-run"][-4:] == [68.6, 74.6, 77.3, 81.2]
    benchmarks = {d["label"]: d["data"] for d in chart(response, "chart-benchmarks")["data"]["datasets"]}
    assert benchmarks == {"sft-a": [30.0, 60.0], "sft-b": [None, 70.0]}
    assert "Published Molmo results, for reference" in html and "not re-run here" in html


def test_no_runs_yet_says_how_to_make_results(client, settings, tmp_path):
    settings.PIXMO_RUNS_DIR = str(tmp_path / "nothing-here")
    client.force_login(UserFactory(role=Role.ADMIN))
    response = client.get(reverse("dashboard:evaluation"))
    assert response.status_code == 200
    assert "has results yet" in response.content.decode() and "./pixmo eval --checkpoint RUN" in response.content.decode()
    assert "chart-average" not in response.context["charts"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_page_draws_in_chromium(page, runs):
    login(page, UserFactory(role=Role.REVIEWER))
    page.goto("/dashboard/")
    page.click("nav.dash-nav >> text=Evaluation")
    charts_drawn(page, 2)
    shoot(page, "evaluation")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
