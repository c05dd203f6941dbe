from django.urls import path

from annotation_app.ui import views

urlpatterns = [
    path("<int:project_id>/", views.task_page, name="ui-task"),
]
