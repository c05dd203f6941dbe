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

    class FilterSerializer(serializers.Serializer):
        project = serializers.IntegerField(min_value=1, required=False, allow_null=True,
                                           error_messages={"invalid": "project must be a project id"})

    @extend_schema(parameters=[FilterSerializer], responses={200: dict})
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return Response(review_queue(project_id=filters.validated_data.get("project")))


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
