from django.urls import path

from annotation_app.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("review/", views.review_index, name="review-index"),
    path("review/<int:project_id>/", views.review, name="review"),
    path("review/<int:project_id>/<int:target_id>/", views.review, name="review-item"),
    path("review/<int:project_id>/<int:target_id>/decide/", views.review_decide, name="review-decide"),
    path("annotators/", views.annotators, name="annotators"),
    path("annotators.csv", views.annotators_csv, name="annotators-csv"),
    path("pipeline/", views.pipeline, name="pipeline"),
    path("pipeline/jobs/<int:job_id>/retry/", views.pipeline_retry, name="pipeline-retry"),
    path("quality/", views.quality, name="quality"),
    path("leaderboard/", views.leaderboard_view, name="leaderboard"),
    path("evaluation/", views.evaluation, name="evaluation"),
    path("releases/", views.releases, name="releases"),
    path("releases/cut/", views.release_cut, name="release-cut"),
    path("releases/<int:release_id>/retry/", views.release_retry, name="release-retry"),
    path("releases/<int:release_id>/files/<path:key>", views.release_file, name="release-file"),
]
