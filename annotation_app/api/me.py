from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation_app.models import Role


class MeApi(APIView):
    @extend_schema(responses=inline_serializer("Me", {
        "id": serializers.IntegerField(), "username": serializers.CharField(),
        "role": serializers.ChoiceField(choices=Role.choices)}))
    def get(self, request):
        user = request.user
        return Response({"id": user.pk, "username": user.username, "role": user.role})
