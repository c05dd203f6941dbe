from drf_spectacular.openapi import AutoSchema


class PixmoAutoSchema(AutoSchema):
    """Names a nested `InputSerializer` after its API class, so components never collide."""

    def _get_serializer_name(self, serializer, direction, bypass_extensions=False):
        name = super()._get_serializer_name(serializer, direction, bypass_extensions)
        qualname = type(serializer).__qualname__
        if "." in qualname:
            owner = qualname.split(".")[0].removesuffix("Api")
            if not name.startswith(owner):
                name = owner + name
        return name
