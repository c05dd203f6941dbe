from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView


class MeApi(APIView):
    @extend_schema(responses={200: dict})
    def get(self, request):
        user = request.user
        return Response({"id": user.pk, "username": user.username, "role": user.role})
