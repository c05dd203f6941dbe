"""Small read endpoints the annotator pages need to resume after a reload."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation_app.api.submissions import AskThreadOutput
from annotation_app.selectors.assignments import assignment_get_own
from annotation_app.selectors.ui import ask_thread_of_assignment, assignment_item_position


class AssignmentAskThreadApi(APIView):
    """The assignment's ask thread, or null when no question was asked yet."""

    @extend_schema(responses=inline_serializer("AssignmentAskThread", {"thread": AskThreadOutput(allow_null=True)}))
    def get(self, request, assignment_id: int):
        assignment = assignment_get_own(annotator=request.user, assignment_id=assignment_id)
        thread = ask_thread_of_assignment(assignment=assignment)
        return Response({"thread": AskThreadOutput(thread).data if thread else None})


class AssignmentPositionApi(APIView):
    """Where the assignment's item stands in its project ("item 3 of 40"), items in the order added."""

    @extend_schema(responses=inline_serializer("AssignmentPosition", {
        "position": serializers.IntegerField(min_value=1), "total": serializers.IntegerField(min_value=1)}))
    def get(self, request, assignment_id: int):
        assignment = assignment_get_own(annotator=request.user, assignment_id=assignment_id)
        return Response(assignment_item_position(assignment=assignment))
