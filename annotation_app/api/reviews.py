from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation_app.api.permissions import IsReviewer
from annotation_app.api.serializers import schema_serializer
from annotation_app.models import AskThread, Caption, PointSet
from annotation_app.models.reviews import ReviewDecision
from annotation_app.selectors.reviews import review_queue
from annotation_app.services.reviews import review_submit


class ReviewQueueApi(APIView):
    permission_classes = [IsReviewer]

    class FilterSerializer(serializers.Serializer):
        project = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False, allow_null=True,
                                           error_messages={"invalid": "project must be a project id"})

    @extend_schema(parameters=[FilterSerializer], responses=inline_serializer("ReviewQueue", {
        "captions": inline_serializer("QueuedCaption", {
            "id": serializers.IntegerField(), "work_item": serializers.IntegerField(), "text": serializers.CharField(),
            "flags": serializers.ListField(child=serializers.CharField())}, many=True),
        "point_sets": inline_serializer("QueuedPointSet", {
            "id": serializers.IntegerField(), "work_item": serializers.IntegerField(), "label": serializers.CharField(),
            "count": serializers.IntegerField(min_value=0), "not_present": serializers.BooleanField()}, many=True),
        "ask_threads": inline_serializer("QueuedAskThread", {
            "id": serializers.IntegerField(), "work_item": serializers.IntegerField(),
            "question": serializers.CharField(), "answer": serializers.CharField()}, many=True)}))
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

    # A review names exactly one target: the schema states the body as one of three.
    InputSchema = PolymorphicProxySerializer(component_name="ReviewCreateInput", resource_type_field_name=None,
                                             serializers=[
        schema_serializer(InputSerializer, "ReviewOfCaption", point_set=None, ask_thread=None,
                          caption=serializers.PrimaryKeyRelatedField(queryset=Caption.objects.all())),
        schema_serializer(InputSerializer, "ReviewOfPointSet", caption=None, ask_thread=None,
                          point_set=serializers.PrimaryKeyRelatedField(queryset=PointSet.objects.all())),
        schema_serializer(InputSerializer, "ReviewOfAskThread", caption=None, point_set=None,
                          ask_thread=serializers.PrimaryKeyRelatedField(queryset=AskThread.objects.all())),
    ])

    @extend_schema(request=InputSchema, responses={201: inline_serializer("ReviewCreated", {
        "id": serializers.IntegerField(), "decision": serializers.ChoiceField(choices=ReviewDecision.choices)})})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review = review_submit(reviewer=request.user, **data.validated_data)
        return Response({"id": review.pk, "decision": review.decision}, status=status.HTTP_201_CREATED)
