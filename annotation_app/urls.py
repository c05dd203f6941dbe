from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from annotation_app import views
from annotation_app.security.csp_report import csp_report

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/", include("annotation_app.api.urls")),
    path("dashboard/", include("annotation_app.dashboard.urls")),
    path("work/", include("annotation_app.ui.urls")),
    path("admin/", admin.site.urls),
    path("csp-report/", csp_report, name="csp-report"),
    path("favicon.ico", views.favicon, name="favicon"),
    re_path(r"^media/(?P<path>.+)$", views.protected_media, name="media"),
]
