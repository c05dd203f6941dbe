from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation_app.api.serializers import AssignmentOutput
from annotation_app.models.work import AssignmentStatus
from annotation_app.selectors.assignments import assignment_get_own, assignments_of
from annotation_app.services.assignments import assignment_heartbeat, assignment_skip, problem_report_create


class AssignmentListApi(APIView):
    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=AssignmentStatus.choices, required=False, allow_blank=True)

    @extend_schema(parameters=[FilterSerializer], responses=AssignmentOutput(many=True))
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        assignments = assignments_of(annotator=request.user)
        if status_filter := filters.validated_data.get("status"):
            assignments = assignments.filter(status=status_filter)
        return Response(AssignmentOutput(assignments[:200], many=True).data)


class AssignmentDetailApi(APIView):
    @extend_schema(responses=AssignmentOutput)
    def get(self, request, assignment_id: int):
        return Response(AssignmentOutput(assignment_get_own(annotator=request.user, assignment_id=assignment_id)).data)


class AssignmentHeartbeatApi(APIView):
    @extend_schema(request=None, responses=AssignmentOutput)
    def post(self, request, assignment_id: int):
        assignment = assignment_get_own(annotator=request.user, assignment_id=assignment_id)
        return Response(AssignmentOutput(assignment_heartbeat(assignment=assignment, annotator=request.user)).data)


class AssignmentSkipApi(APIView):
    @extend_schema(request=None, responses=AssignmentOutput)
    def post(self, request, assignment_id: int):
        assignment = assignment_get_own(annotator=request.user, assignment_id=assignment_id)
        return Response(AssignmentOutput(assignment_skip(assignment=assignment, annotator=request.user)).data)


class AssignmentReportProblemApi(APIView):
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=2000)

    @extend_schema(request=InputSerializer,
                   responses={201: inline_serializer("ProblemReported", {"id": serializers.IntegerField()})})
    def post(self, request, assignment_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        assignment = assignment_get_own(annotator=request.user, assignment_id=assignment_id)
        report = problem_report_create(
            assignment=assignment, reporter=request.user, reason=data.validated_data["reason"]
        )
        return Response({"id": report.pk}, status=status.HTTP_201_CREATED)
