from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from annotation_app import models


@admin.register(models.User)
class PixmoUserAdmin(UserAdmin):
    fieldsets = UserAdmin.fieldsets + (("PixMo", {"fields": ("role",)}),)
    list_display = ("username", "email", "role", "is_active", "last_login")
    list_filter = ("role", "is_active")


@admin.register(models.Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "kind", "overlap_k", "is_active", "created_at")
    list_filter = ("kind", "is_active")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("members",)


@admin.register(models.Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = ("id", "sha256", "width", "height", "license", "is_eval_holdout", "created_at")
    search_fields = ("sha256", "source_url", "source_name")
    list_filter = ("is_eval_holdout", "license")


@admin.register(models.WorkItem)
class WorkItemAdmin(admin.ModelAdmin):
    list_display = ("id", "project", "image", "open_slots", "finished_count", "is_gold")
    list_filter = ("project", "is_gold")
    raw_id_fields = ("image",)


@admin.register(models.Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ("id", "work_item", "annotator", "status", "claimed_at", "expires_at", "active_seconds")
    list_filter = ("status", "project")
    raw_id_fields = ("work_item",)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Receipts, model outputs and the audit log are evidence: visible, never edited here."""

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


for model in (
    models.Recording, models.Transcript, models.ModelProvenance, models.AuditEvent, models.CaptionVersion,
    models.AskTurn, models.PreferenceJudgment,
):
    admin.site.register(model, ReadOnlyAdmin)

for model in (
    models.Caption, models.PointSet, models.AskThread, models.CompareItem, models.Review,
    models.DatasetRelease, models.PipelineJob, models.ProblemReport, models.CapQADialogue, models.WorkerHeartbeat,
):
    admin.site.register(model)
