"""Output serializers and input fields shared by several API classes (inputs live next to their
API class)."""

import re

from rest_framework import serializers

from annotation_app.models import Assignment, Image, Project, ProjectKind
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
        item = getattr(assignment.work_item, "compare", None)
        return None if item is None else compare_answer(assignment=assignment, item=item)


def compare_answer(*, assignment: Assignment, item) -> dict:
    """The two answers in this assignment's recorded screen order; model names stay hidden."""
    answers = [item.response_a, item.response_b]
    if compare_is_swapped(assignment=assignment):
        answers.reverse()
    return {"prompt": item.prompt, "category": item.category, "left": answers[0], "right": answers[1]}


_DATETIME = serializers.DateTimeField()


def assignment_answer(assignment: Assignment) -> dict:
    """What `AssignmentOutput(assignment).data` gives, built as a plain dict for the claim path,
    which answers every claim (a test compares the two for every project kind)."""
    project, image = assignment.project, assignment.work_item.image
    item = getattr(assignment.work_item, "compare", None) if project.kind == ProjectKind.COMPARE else None
    compare = None if item is None else compare_answer(assignment=assignment, item=item)
    return {
        "id": assignment.pk, "status": assignment.status,
        "claimed_at": _DATETIME.to_representation(assignment.claimed_at),
        "expires_at": _DATETIME.to_representation(assignment.expires_at),
        "heartbeat_at": _DATETIME.to_representation(assignment.heartbeat_at),
        "finished_at": _DATETIME.to_representation(assignment.finished_at) if assignment.finished_at else None,
        "active_seconds": assignment.active_seconds,
        "project": {name: getattr(project, name) for name in ProjectOutput.Meta.fields},
        "image": {"id": image.pk, "sha256": image.sha256, "url": image_url(image=image), "width": image.width,
                  "height": image.height, "mime": image.mime, "license": image.license, "topics": image.topics,
                  "source_url": image.source_url},
        "compare": compare,
    }


class NumberField(serializers.FloatField):
    """A JSON number. DRF's FloatField would read `true` as 1.0 and "12" as 12.0; a coordinate
    sent as either is a client bug, so it is refused with the field's name."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            kind = "a boolean" if isinstance(data, bool) else f"a {type(data).__name__}"
            raise serializers.ValidationError(f"{self.field_name} must be a number, not {kind}")
        return super().to_internal_value(data)


# Characters that change how a label looks without being seen: bidi embeddings, overrides and
# isolates, zero-width space and word joiner, byte-order mark, and C0/C1 controls. Zero-width
# (non-)joiners stay: Persian and Indic scripts and emoji sequences need them.
HIDDEN_CHARACTERS = re.compile("[\u0000-\u001f\u007f-\u009f\u200b\u2060\u202a-\u202e\u2066-\u2069\ufeff]")


def refuse_hidden_characters(text: str) -> str:
    if match := HIDDEN_CHARACTERS.search(text):
        raise serializers.ValidationError(
            f"must not contain invisible or direction-changing characters (U+{ord(match.group()):04X})")
    return text


class LabelField(serializers.CharField):
    """A one-line label people see and models read: no hidden or direction-changing characters."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(refuse_hidden_characters)


class ClientUuidField(serializers.UUIDField):
    """The browser's submission key, sent as a UUID string. DRF would also read an integer as
    UUID(int=…), so 1, 2, 3 from two clients would collide."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError(f"{self.field_name} must be a UUID string")
        return super().to_internal_value(data)


class AudioFileField(serializers.FileField):
    """An audio upload; the schema states the accepted size (settings.PIXMO_MAX_AUDIO_BYTES)."""


class Refusal(serializers.Serializer):
    """Every refused request's body: one sentence that names the field or the limit."""

    detail = serializers.CharField()


def schema_serializer(base: type[serializers.Serializer], name: str, **fields) -> type[serializers.Serializer]:
    """`base` with `fields` replaced, for the OpenAPI schema only. A view that validates a loosely
    typed list item by item (to answer one flat message per bad item) documents each item's type
    with this, so the schema says what is accepted while the messages stay the view's own."""
    return type(name, (base,), {"__module__": base.__module__, "__qualname__": name, **fields})
