from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation_app.api.permissions import IsPixmoAdmin, IsReviewer
from annotation_app.api.serializers import ImageOutput
from annotation_app.models import Image, Project
from annotation_app.services.images import ImageSource, images_import

MAX_FILES_PER_UPLOAD = 200


class ImageListApi(APIView):
    permission_classes = [IsReviewer]

    class FilterSerializer(serializers.Serializer):
        topic = serializers.CharField(max_length=100, required=False, allow_blank=True)

    @extend_schema(parameters=[FilterSerializer], responses=ImageOutput(many=True))
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        images = Image.objects.order_by("-id")
        if topic := filters.validated_data.get("topic"):
            images = images.filter(topics__contains=[topic]) if _json_contains_supported() else images
        return Response(ImageOutput(images[:200], many=True).data)


def _json_contains_supported() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


class ImageUploadApi(APIView):
    """Upload image files; each is verified, deduplicated, and optionally added to a project."""

    permission_classes = [IsPixmoAdmin]
    parser_classes = [MultiPartParser]

    class InputSerializer(serializers.Serializer):
        files = serializers.ListField(child=serializers.FileField(), min_length=1, max_length=MAX_FILES_PER_UPLOAD)
        license = serializers.CharField(max_length=128, required=False, default="")
        topics = serializers.ListField(child=serializers.CharField(max_length=100), default=list)
        project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.all(), required=False)

    @extend_schema(request=InputSerializer, responses=inline_serializer("ImportSummary", {
        "imported": serializers.IntegerField(min_value=0), "duplicates": serializers.IntegerField(min_value=0),
        "refused": inline_serializer("ImageRefused", {"name": serializers.CharField(), "reason": serializers.CharField()},
                                     many=True)}))
    def post(self, request):
        # request.data holds the form fields and the files (repeated names are lists); an
        # empty body is a plain dict, so the serializer's "required" message names what is missing.
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        sources = [
            ImageSource(name=f.name, load=f.read, license=values["license"], topics=tuple(values["topics"]))
            for f in values["files"]
        ]
        summary = images_import(sources=sources, imported_by=request.user, project=values.get("project"))
        if summary.refused and not summary.images:
            name, reason = summary.refused[0]
            detail = f"no image was imported: {name}: {reason}"
            return Response({"detail": detail, **summary.as_dict()}, status=status.HTTP_400_BAD_REQUEST)
        return Response(summary.as_dict())
