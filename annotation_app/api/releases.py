from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation_app.api.permissions import IsReviewer
from annotation_app.models import DatasetRelease
from annotation_app.models.releases import ReleaseStatus


class ReleaseOutput(serializers.ModelSerializer):
    class Meta:
        model = DatasetRelease
        fields = [
            "id", "name", "datasets", "filters", "uri", "status", "progress", "counts", "manifest",
            "validation", "error", "created_at", "finished_at", "send_error", "worker", "beat_at", "resends",
        ]


class ReleaseListApi(APIView):
    permission_classes = [IsReviewer]

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=ReleaseStatus.choices, required=False, allow_blank=True)

    @extend_schema(parameters=[FilterSerializer], responses=ReleaseOutput(many=True))
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        releases = DatasetRelease.objects.all()
        if status_filter := filters.validated_data.get("status"):
            releases = releases.filter(status=status_filter)
        return Response(ReleaseOutput(releases[:200], many=True).data)
