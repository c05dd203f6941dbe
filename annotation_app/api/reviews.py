from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation_app.api.permissions import IsReviewer
from annotation_app.models import AskThread, Caption, PointSet
from annotation_app.models.reviews import ReviewDecision
from annotation_app.selectors.reviews import review_queue
from annotation_app.services.reviews import review_submit


class ReviewQueueApi(APIView):
    permission_classes = [IsReviewer]

    @extend_schema(responses={200: dict})
    def get(self, request):
        project_id = request.query_params.get("project")
        if project_id is not None and not project_id.isdigit():
            return Response({"detail": "project must be a project id"}, status=status.HTTP_400_BAD_REQUEST)
        return Response(review_queue(project_id=int(project_id) if project_id else None))


class ReviewCreateApi(APIView):
    permission_classes = [IsReviewer]

    class InputSerializer(serializers.Serializer):
        decision = serializers.ChoiceField(choices=ReviewDecision.choices)
        caption = serializers.PrimaryKeyRelatedField(queryset=Caption.objects.all(), required=False)
        point_set = serializers.PrimaryKeyRelatedField(queryset=PointSet.objects.all(), required=False)
        ask_thread = serializers.PrimaryKeyRelatedField(queryset=AskThread.objects.all(), required=False)
        reason = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)
        edited_text = serializers.CharField(max_length=20000, required=False, default="", allow_blank=True)

    @extend_schema(request=InputSerializer, responses={201: dict})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review = review_submit(reviewer=request.user, **data.validated_data)
        return Response({"id": review.pk, "decision": review.decision}, status=status.HTTP_201_CREATED)
