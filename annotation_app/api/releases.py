from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation_app.api.permissions import IsReviewer
from annotation_app.models import DatasetRelease


class ReleaseOutput(serializers.ModelSerializer):
    class Meta:
        model = DatasetRelease
        fields = [
            "id", "name", "datasets", "filters", "uri", "status", "progress", "counts", "manifest",
            "validation", "error", "created_at", "finished_at",
        ]


class ReleaseListApi(APIView):
    permission_classes = [IsReviewer]

    @extend_schema(responses=ReleaseOutput(many=True))
    def get(self, request):
        releases = DatasetRelease.objects.all()
        if status_filter := request.query_params.get("status"):
            releases = releases.filter(status=status_filter)
        return Response(ReleaseOutput(releases[:200], many=True).data)
