from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from annotation_app.api import assignments, images, me, projects, releases, reviews, submissions, ui

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file, so the page runs no inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(
        url_name="api-schema", template_name="annotation_app/api_docs.html"), name="api-docs"),
    path("me/", me.MeApi.as_view(), name="api-me"),
    path("projects/", projects.ProjectListApi.as_view(), name="api-projects"),
    path("projects/<int:project_id>/", projects.ProjectDetailApi.as_view(), name="api-project"),
    path("projects/<int:project_id>/images/", projects.ProjectImagesApi.as_view(), name="api-project-images"),
    path("projects/<int:project_id>/next/", projects.ProjectNextApi.as_view(), name="api-project-next"),
    path("assignments/", assignments.AssignmentListApi.as_view(), name="api-assignments"),
    path("assignments/<int:assignment_id>/", assignments.AssignmentDetailApi.as_view(), name="api-assignment"),
    path("assignments/<int:assignment_id>/heartbeat/", assignments.AssignmentHeartbeatApi.as_view(),
         name="api-assignment-heartbeat"),
    path("assignments/<int:assignment_id>/skip/", assignments.AssignmentSkipApi.as_view(), name="api-assignment-skip"),
    path("assignments/<int:assignment_id>/report/", assignments.AssignmentReportProblemApi.as_view(),
         name="api-assignment-report"),
    path("assignments/<int:assignment_id>/recordings/", submissions.RecordingCreateApi.as_view(),
         name="api-recordings"),
    path("assignments/<int:assignment_id>/points/", submissions.PointSetsCreateApi.as_view(), name="api-points"),
    path("assignments/<int:assignment_id>/ask/", submissions.AskStartApi.as_view(), name="api-ask"),
    path("assignments/<int:assignment_id>/judgment/", submissions.JudgmentCreateApi.as_view(), name="api-judgment"),
    path("recordings/<int:recording_id>/", submissions.RecordingDetailApi.as_view(), name="api-recording"),
    path("ask-threads/<int:thread_id>/", submissions.AskThreadDetailApi.as_view(), name="api-ask-thread"),
    path("ask-threads/<int:thread_id>/feedback/", submissions.AskFeedbackApi.as_view(), name="api-ask-feedback"),
    path("ask-threads/<int:thread_id>/accept/", submissions.AskAcceptApi.as_view(), name="api-ask-accept"),
    path("images/", images.ImageListApi.as_view(), name="api-images"),
    path("images/upload/", images.ImageUploadApi.as_view(), name="api-images-upload"),
    path("review/queue/", reviews.ReviewQueueApi.as_view(), name="api-review-queue"),
    path("reviews/", reviews.ReviewCreateApi.as_view(), name="api-reviews"),
    path("releases/", releases.ReleaseListApi.as_view(), name="api-releases"),
    path("assignments/<int:assignment_id>/ask-thread/", ui.AssignmentAskThreadApi.as_view(),
         name="api-assignment-ask-thread"),
    path("assignments/<int:assignment_id>/position/", ui.AssignmentPositionApi.as_view(),
         name="api-assignment-position"),
]
