from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authentication import TokenAuthentication
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation_app.api.authentication import OneQueryTokenAuthentication
from annotation_app.api.permissions import IsPixmoAdmin
from annotation_app.api.serializers import AssignmentOutput, LabelField, ProjectOutput, assignment_answer
from annotation_app.models import Image, ProjectKind
from annotation_app.selectors.projects import project_get_visible, projects_visible_to
from annotation_app.services.assignments import assignment_claim_next
from annotation_app.services.points import MAX_LABEL_LENGTH
from annotation_app.services.projects import project_add_images, project_create


class ProjectListApi(APIView):
    class InputSerializer(serializers.Serializer):
        name = LabelField(max_length=200)
        slug = serializers.SlugField(max_length=80)
        kind = serializers.ChoiceField(choices=ProjectKind.choices)
        instructions = serializers.CharField(max_length=20_000, required=False, allow_blank=True, default="")
        overlap_k = serializers.IntegerField(min_value=1, max_value=20, default=1)
        # Seconds of audio; a recording is at most an hour (RecordingCreateApi's client_duration_s).
        min_duration_s = serializers.FloatField(min_value=0, max_value=3600, default=60.0)
        target_duration_s = serializers.FloatField(min_value=0, max_value=3600, default=90.0)
        max_duration_s = serializers.FloatField(min_value=1, max_value=3600, default=300.0)
        labels = serializers.ListField(child=LabelField(max_length=MAX_LABEL_LENGTH), default=list, max_length=1000)

        def validate(self, data):
            low, target, high = data["min_duration_s"], data["target_duration_s"], data["max_duration_s"]
            if low > high:
                raise serializers.ValidationError("min_duration_s must not exceed max_duration_s")
            if not low <= target <= high:
                raise serializers.ValidationError(
                    f"target_duration_s ({target:g} s) must lie between min_duration_s ({low:g} s) "
                    f"and max_duration_s ({high:g} s)")
            return data

    def get_permissions(self):
        return [IsPixmoAdmin()] if self.request.method == "POST" else super().get_permissions()

    @extend_schema(responses=ProjectOutput(many=True))
    def get(self, request):
        return Response(ProjectOutput(projects_visible_to(user=request.user), many=True).data)

    @extend_schema(request=InputSerializer, responses={201: ProjectOutput})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = project_create(actor=request.user, **data.validated_data)
        return Response(ProjectOutput(project).data, status=status.HTTP_201_CREATED)


class ProjectDetailApi(APIView):
    @extend_schema(responses=ProjectOutput)
    def get(self, request, project_id: int):
        return Response(ProjectOutput(project_get_visible(user=request.user, project_id=project_id)).data)


class ProjectImagesApi(APIView):
    permission_classes = [IsPixmoAdmin]

    class InputSerializer(serializers.Serializer):
        # Ids are bigint primary keys: 1 to 2**63 - 1.
        image_ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
                                          min_length=1, max_length=100_000)

    @extend_schema(request=InputSerializer,
                   responses=inline_serializer("ImagesAdded", {"added": serializers.IntegerField(min_value=0)}))
    def post(self, request, project_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = project_get_visible(user=request.user, project_id=project_id)
        ids = data.validated_data["image_ids"]
        images = list(Image.objects.filter(pk__in=ids))
        missing = sorted(set(ids) - {image.pk for image in images})
        if missing:
            return Response({"detail": f"images {missing[:10]} do not exist"}, status=status.HTTP_400_BAD_REQUEST)
        added = project_add_images(project=project, images=images, actor=request.user)
        return Response({"added": added})


class ProjectNextApi(APIView):
    """Claim the next item: returns the live assignment if the annotator already holds one."""

    def get_authenticators(self):
        # The configured classes, with DRF's token lookup replaced by a one-query one; the schema
        # (drf-spectacular marks the view it inspects) names DRF's, the one scheme it documents.
        configured = super().get_authenticators()
        if getattr(self, "swagger_fake_view", False):
            return configured
        return [OneQueryTokenAuthentication() if type(authenticator) is TokenAuthentication else authenticator
                for authenticator in configured]

    @extend_schema(request=None, responses={200: AssignmentOutput})
    def post(self, request, project_id: int):
        assignment = assignment_claim_next(annotator=request.user, project_id=project_id)
        return Response(assignment_answer(assignment))
