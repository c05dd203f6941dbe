from rest_framework.permissions import BasePermission


class IsReviewer(BasePermission):
    message = "Reviewer or admin role required."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_reviewer)


class IsPixmoAdmin(BasePermission):
    message = "Admin role required."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_pixmo_admin)
