"""What annotators submit: recordings, point sets, ask threads, preference judgments."""

from drf_spectacular.utils import OpenApiRequest, PolymorphicProxySerializer, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation_app.api.parsers import LimitedFormParser
from annotation_app.api.serializers import (
    AudioFileField,
    ClientUuidField,
    LabelField,
    NumberField,
    schema_serializer,
)
from annotation_app.models import AskThread, AskTurn, PointSet, PreferenceJudgment, Recording
from annotation_app.selectors.assignments import assignment_get_own
from annotation_app.selectors.media import recording_playback_url
from annotation_app.selectors.submissions import (
    ask_thread_get_visible,
    recording_caption,
    recording_get_visible,
)
from annotation_app.services.ask import ask_thread_accept, ask_thread_feedback, ask_thread_start
from annotation_app.services.compare import SCREEN_CHOICES, judgment_submit
from annotation_app.services.points import (
    MAX_LABEL_LENGTH,
    MAX_POINTS_PER_SET,
    PointSetInput,
    point_sets_submit,
)
from annotation_app.services.recordings import AUDIO_TYPES, recording_submit
from pipelines.qa import MAX_POINT_LABEL_CHARS, MAX_POINTS


def _created(created: bool) -> int:
    return status.HTTP_201_CREATED if created else status.HTTP_200_OK


class RecordingOutput(serializers.ModelSerializer):
    audio_url = serializers.SerializerMethodField()
    transcript = serializers.SerializerMethodField()
    caption = serializers.SerializerMethodField()

    class Meta:
        model = Recording
        fields = [
            "id", "client_uuid", "assignment", "status", "mime", "byte_size", "sha256", "duration_s",
            "client_duration_s", "checks", "flags", "failure_reason", "created_at", "audio_url",
            "transcript", "caption",
        ]

    def get_audio_url(self, recording) -> str:
        return recording_playback_url(recording=recording)

    # A recording stored by this request has no transcript or caption yet (the tasks that make
    # them run after commit), so its answer is built without asking the database again.
    def get_transcript(self, recording) -> str | None:
        if self.context.get("just_stored"):
            return None
        transcript = recording.transcripts.order_by("-created_at").first()
        return transcript.text if transcript else None

    def get_caption(self, recording) -> dict | None:
        if self.context.get("just_stored"):
            return None
        caption = recording_caption(recording=recording)
        version = caption.current if caption else None
        if version is None:
            return None
        return {"id": caption.pk, "text": version.text, "source": version.source, "flags": caption.guard_flags}


class RecordingCreateApi(APIView):
    """Upload a recording; repeating a client UUID returns the first result (200, not 201)."""

    parser_classes = [MultiPartParser, LimitedFormParser]

    class InputSerializer(serializers.Serializer):
        audio = AudioFileField(help_text="The recording, sent with one of the accepted audio content types.")
        client_uuid = ClientUuidField()
        client_duration_s = serializers.FloatField(required=False, min_value=0, max_value=3600)

    @extend_schema(
        request={"multipart/form-data": OpenApiRequest(
            InputSerializer, encoding={"audio": {"contentType": ", ".join(AUDIO_TYPES)}})},
        responses={201: RecordingOutput, 200: RecordingOutput})
    def post(self, request, assignment_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        assignment = assignment_get_own(annotator=request.user, assignment_id=assignment_id)
        recording, created = recording_submit(assignment=assignment, annotator=request.user, **data.validated_data)
        output = RecordingOutput(recording, context={"just_stored": created})
        return Response(output.data, status=_created(created))


class RecordingDetailApi(APIView):
    @extend_schema(responses=RecordingOutput)
    def get(self, request, recording_id: int):
        return Response(RecordingOutput(recording_get_visible(user=request.user, recording_id=recording_id)).data)


class PointSetOutput(serializers.ModelSerializer):
    class Meta:
        model = PointSet
        fields = ["id", "client_uuid", "label", "points", "not_present", "collection_method", "review_status"]


class PointSetsCreateApi(APIView):
    """Store an image's point sets; repeating their client UUIDs returns the stored rows (200)."""

    class PointInput(serializers.Serializer):
        x_px = NumberField()  # pixels of the original image
        y_px = NumberField()

    class SetInput(serializers.Serializer):
        client_uuid = ClientUuidField()
        label = LabelField(max_length=MAX_LABEL_LENGTH)
        points = serializers.ListField(child=serializers.DictField(), default=list, max_length=MAX_POINTS_PER_SET)
        not_present = serializers.BooleanField(default=False)

    class InputSerializer(serializers.Serializer):
        point_sets = serializers.ListField(child=serializers.DictField(), min_length=1, max_length=100)
        finish = serializers.BooleanField(default=True)

    # The body as _set reads it, typed for the schema: a set either places points (pixels of the
    # original image, 0 to its width and height) or says the label is not present, with none.
    PointSchema = schema_serializer(PointInput, "PointPixels",
                                    x_px=NumberField(min_value=0), y_px=NumberField(min_value=0))
    PlacedSchema = schema_serializer(
        SetInput, "PointSetPlaced", not_present=serializers.ChoiceField(choices=[False], required=False),
        points=serializers.ListField(child=PointSchema(), min_length=1, max_length=MAX_POINTS_PER_SET))
    NotPresentSchema = schema_serializer(
        SetInput, "PointSetNotPresent", not_present=serializers.ChoiceField(choices=[True]),
        points=serializers.ListField(child=PointSchema(), required=False, max_length=0))
    InputSchema = schema_serializer(InputSerializer, "PointSetsCreateInput", point_sets=serializers.ListField(
        child=PolymorphicProxySerializer(component_name="PointSetInput", serializers=[PlacedSchema, NotPresentSchema],
                                         resource_type_field_name=None),
        min_length=1, max_length=100))

    @extend_schema(request=InputSchema, responses={201: PointSetOutput(many=True), 200: PointSetOutput(many=True)})
    def post(self, request, assignment_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        inputs = [self._set(raw) for raw in data.validated_data["point_sets"]]
        assignment = assignment_get_own(annotator=request.user, assignment_id=assignment_id)
        rows, created = point_sets_submit(
            assignment=assignment, annotator=request.user, point_sets=inputs, finish=data.validated_data["finish"]
        )
        return Response(PointSetOutput(rows, many=True).data, status=_created(created))

    def _set(self, raw: dict) -> PointSetInput:
        one = self.SetInput(data=raw)
        one.is_valid(raise_exception=True)
        points = []
        for point in one.validated_data["points"]:
            parsed = self.PointInput(data=point)
            parsed.is_valid(raise_exception=True)
            points.append((parsed.validated_data["x_px"], parsed.validated_data["y_px"]))
        values = one.validated_data
        return PointSetInput(
            client_uuid=values["client_uuid"], label=values["label"], points_px=points, not_present=values["not_present"]
        )


class AnswerVerdictOutput(serializers.Serializer):
    """The guards' verdict on a model answer (pipelines.answer_guards): when `passed` is false the
    answer is shown flagged, with `reasons` in words, after `attempts` tries."""

    passed = serializers.BooleanField()
    failed = serializers.ListField(child=serializers.CharField(), help_text="names of the failed checks")
    reasons = serializers.ListField(child=serializers.CharField(), help_text="one sentence per failed check")
    attempts = serializers.IntegerField(min_value=1)


class AskTurnOutput(serializers.ModelSerializer):
    verdict = serializers.SerializerMethodField()

    class Meta:
        model = AskTurn
        fields = ["index", "role", "text", "status", "failure_reason", "created_at", "verdict"]

    @extend_schema_field(AnswerVerdictOutput(allow_null=True))
    def get_verdict(self, turn: AskTurn) -> dict | None:
        """Null on the annotator's turns, and on answers not yet written (or written before guards)."""
        report = turn.guard_report
        if not report:
            return None
        return {"passed": report["passed"], "failed": report["failed"], "reasons": report["reasons"],
                "attempts": report.get("attempts", 1)}


class AskThreadOutput(serializers.ModelSerializer):
    turns = AskTurnOutput(many=True, read_only=True)

    class Meta:
        model = AskThread
        fields = ["id", "client_uuid", "question", "points", "status", "final_answer", "review_status", "turns"]


def _percent_errors(axis: str, extent: str) -> dict[str, str]:
    message = f"{axis} is percent of the image {extent}, 0 to 100"
    return {"min_value": message, "max_value": message}


class AskStartApi(APIView):
    """Start a thread; `points` (0–100 percent of the image, optional label) make it a point-explanation."""

    class PointInput(serializers.Serializer):
        x = NumberField(min_value=0, max_value=100, error_messages=_percent_errors("x", "width"))
        y = NumberField(min_value=0, max_value=100, error_messages=_percent_errors("y", "height"))
        label = LabelField(max_length=MAX_POINT_LABEL_CHARS, required=False, allow_blank=True, default="")

    class InputSerializer(serializers.Serializer):
        client_uuid = ClientUuidField()
        question = serializers.CharField(max_length=2000)
        points = serializers.ListField(
            child=serializers.DictField(), default=list, max_length=MAX_POINTS,
            error_messages={"max_length": f"at most {MAX_POINTS} points per question"},
        )

        def validate_points(self, points: list[dict]) -> list[dict]:
            # One flat sentence per bad point ("point 2: x is percent …"), not a nested error tree.
            parsed = []
            for number, raw in enumerate(points, start=1):
                one = AskStartApi.PointInput(data=raw)
                if not one.is_valid():
                    field, messages = next(iter(one.errors.items()))
                    message = str(messages[0])
                    raise serializers.ValidationError(
                        f"point {number}: {message if message.startswith(field) else f'{field}: {message}'}")
                parsed.append(dict(one.validated_data))
            return parsed

    # The body as the schema states it: each point typed as validate_points reads it.
    InputSchema = schema_serializer(InputSerializer, "AskStartInput", points=serializers.ListField(
        child=PointInput(), default=list, max_length=MAX_POINTS))

    @extend_schema(request=InputSchema, responses={201: AskThreadOutput, 200: AskThreadOutput})
    def post(self, request, assignment_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        assignment = assignment_get_own(annotator=request.user, assignment_id=assignment_id)
        thread, created = ask_thread_start(assignment=assignment, annotator=request.user, **data.validated_data)
        return Response(AskThreadOutput(thread).data, status=_created(created))


class AskThreadDetailApi(APIView):
    @extend_schema(responses=AskThreadOutput)
    def get(self, request, thread_id: int):
        return Response(AskThreadOutput(ask_thread_get_visible(user=request.user, thread_id=thread_id)).data)


class AskFeedbackApi(APIView):
    class InputSerializer(serializers.Serializer):
        feedback = serializers.CharField(max_length=2000)
        client_uuid = ClientUuidField(required=False, help_text="the browser's key for this feedback: a retry "
                                                                "with it answers with the stored thread")

    @extend_schema(request=InputSerializer, responses=AskThreadOutput)
    def post(self, request, thread_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        thread = ask_thread_get_visible(user=request.user, thread_id=thread_id)
        thread = ask_thread_feedback(thread=thread, annotator=request.user, **data.validated_data)
        return Response(AskThreadOutput(thread).data)


class AskAcceptApi(APIView):
    class InputSerializer(serializers.Serializer):
        edited_answer = serializers.CharField(max_length=2000, required=False)

    @extend_schema(request=InputSerializer, responses=AskThreadOutput)
    def post(self, request, thread_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        thread = ask_thread_get_visible(user=request.user, thread_id=thread_id)
        thread = ask_thread_accept(thread=thread, annotator=request.user, **data.validated_data)
        return Response(AskThreadOutput(thread).data)


class JudgmentOutput(serializers.ModelSerializer):
    class Meta:
        model = PreferenceJudgment
        fields = ["id", "client_uuid", "winner", "swapped", "created_at"]


class JudgmentCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        client_uuid = ClientUuidField()
        choice = serializers.ChoiceField(choices=SCREEN_CHOICES)

    @extend_schema(request=InputSerializer, responses={201: JudgmentOutput, 200: JudgmentOutput})
    def post(self, request, assignment_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        assignment = assignment_get_own(annotator=request.user, assignment_id=assignment_id)
        judgment, created = judgment_submit(assignment=assignment, annotator=request.user, **data.validated_data)
        return Response(JudgmentOutput(judgment).data, status=_created(created))
