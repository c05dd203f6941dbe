"""Output serializers shared by several API classes (inputs live next to their API class)."""

from rest_framework import serializers

from annotation_app.models import Assignment, Image, Project
from annotation_app.selectors.media import image_url
from annotation_app.services.compare import compare_is_swapped


class ProjectOutput(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = [
            "id", "name", "slug", "kind", "instructions", "overlap_k", "min_duration_s",
            "target_duration_s", "max_duration_s", "min_speech_ratio", "language", "labels",
            "collection_method", "is_active",
        ]


class ImageOutput(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Image
        fields = ["id", "sha256", "url", "width", "height", "mime", "license", "topics", "source_url"]

    def get_url(self, image: Image) -> str:
        return image_url(image=image)


class AssignmentOutput(serializers.ModelSerializer):
    project = ProjectOutput(read_only=True)
    image = ImageOutput(source="work_item.image", read_only=True)
    compare = serializers.SerializerMethodField()

    class Meta:
        model = Assignment
        fields = [
            "id", "status", "claimed_at", "expires_at", "heartbeat_at", "finished_at",
            "active_seconds", "project", "image", "compare",
        ]

    def get_compare(self, assignment: Assignment) -> dict | None:
        """The two answers in this assignment's recorded screen order; model names stay hidden."""
        item = getattr(assignment.work_item, "compare", None)
        if item is None:
            return None
        answers = [item.response_a, item.response_b]
        if compare_is_swapped(assignment=assignment):
            answers.reverse()
        return {"prompt": item.prompt, "category": item.category, "left": answers[0], "right": answers[1]}
