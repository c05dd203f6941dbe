"""The OpenAPI schema states what the API accepts and answers, tightly enough to fuzz against.

drf-spectacular reads each input serializer; on top of that, this AutoSchema states the rules
the fields enforce that it cannot see (DRF's CharField refuses NUL and, unless blank is allowed,
whitespace alone; a label refuses invisible characters), the id range of every path and
primary-key field, one request media type per endpoint, and the refusals every endpoint may
answer with their bodies.
"""

import re

from django.conf import settings
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import force_instance
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer
from rest_framework import serializers

from annotation_app.api.parsers import LimitedJSONParser
from annotation_app.api.serializers import (
    HIDDEN_CHARACTERS,
    AudioFileField,
    LabelField,
    Refusal,
)

FIELD_ERRORS = {"type": "object", "minProperties": 1, "additionalProperties": {}}
MAX_ID = 2**63 - 1  # ids are bigint primary keys: 1 to 2**63 - 1


def _ecma_class_body(pattern: re.Pattern) -> str:
    """The inside of a one-class Python pattern ("[...]"), written with ECMA \\uXXXX escapes."""
    body = pattern.pattern.removeprefix("[").removesuffix("]")
    return "".join(c if 0x20 < ord(c) < 0x7f else f"\\u{ord(c):04x}" for c in body)


NUL = "\\u0000"  # DRF's ProhibitNullCharactersValidator, on every CharField
LABEL_REFUSED = _ecma_class_body(HIDDEN_CHARACTERS)  # NUL among them


def text_pattern(*, refused: str, blank: bool) -> str:
    """Text without the `refused` characters; unless `blank`, with one that is not whitespace."""
    if blank:
        return f"^[^{refused}]*$"
    return f"^[^{refused}]*[^\\s{refused}][^{refused}]*$"


def _state_text_rules(field, schema: dict) -> None:
    """The characters a CharField refuses, as a pattern, where no other pattern or format says more."""
    if not isinstance(field, serializers.CharField) or schema.get("type") != "string":
        return
    if {"pattern", "format", "enum", "oneOf"} & schema.keys():
        return
    refused = LABEL_REFUSED if isinstance(field, LabelField) else NUL
    # DRF trims whitespace before its blank check, so whitespace alone is blank.
    schema["pattern"] = text_pattern(refused=refused, blank=field.allow_blank or not field.trim_whitespace)


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

    def map_parsers(self):
        """JSON for the JSON endpoints (their flat bodies also parse as forms, but point sets and
        lists do not), multipart for the uploads."""
        if any(issubclass(parser, LimitedJSONParser) for parser in self.view.parser_classes):
            return ["application/json"]
        return ["multipart/form-data"]

    def _resolve_path_parameters(self, variables):
        parameters = super()._resolve_path_parameters(variables)
        for parameter in parameters:
            if parameter["schema"].get("type") == "integer":
                parameter["schema"].update(format="int64", minimum=1, maximum=MAX_ID)
        return parameters

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if schema is None:
            return schema
        if isinstance(field, serializers.ChoiceField) and all(isinstance(c, bool) for c in field.choices):
            return {"type": "boolean", "enum": list(field.choices)}  # a flag of one value, inline
        if direction != "request":
            return schema
        if isinstance(field, serializers.PrimaryKeyRelatedField) and schema.get("type") == "integer":
            schema.update(format="int64", minimum=1, maximum=MAX_ID)
        elif isinstance(field, AudioFileField):
            limit = settings.PIXMO_MAX_AUDIO_BYTES
            schema.update(minLength=1, maxLength=limit, description=f"{field.help_text} 1 to {limit:,} bytes.")
        elif isinstance(field, serializers.FileField) and not field.allow_empty_file:
            schema["minLength"] = 1  # bytes: DRF refuses an empty file
        return schema

    def _get_request_for_media_type(self, serializer, direction="request"):
        schema, required = super()._get_request_for_media_type(serializer, direction)
        # A body that is one of several objects has no required properties of its own; each has.
        if isinstance(force_instance(serializer), PolymorphicProxySerializer):
            required = True
        return schema, required

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "request":  # after drf-spectacular's own validators, whose patterns come first
            properties = schema.get("properties", {})
            for name, field in serializer.fields.items():
                if name in properties:
                    _state_text_rules(field, properties[name])
                    if isinstance(field, serializers.ListField) and "items" in properties[name]:
                        _state_text_rules(field.child, properties[name]["items"])
        return schema

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, response in self._refusals().items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code, direction=direction)
        if "401" in responses:
            responses["401"]["headers"] = {"WWW-Authenticate": {
                "schema": {"type": "string"}, "description": "the scheme to sign in with: Token"}}
        if "503" in responses:
            responses["503"]["headers"] = {"Retry-After": {
                "schema": {"type": "integer", "minimum": 1}, "description": "seconds to wait before retrying"}}
        return responses

    def _refusals(self) -> dict[str, OpenApiResponse]:
        """The 4xx/503 answers this operation may give; each body says why in one sentence."""
        takes_input = self.method in ("POST", "PUT", "PATCH") or bool(self.get_override_parameters())
        refusals = {}
        if takes_input:
            refusals["400"] = OpenApiResponse(FIELD_ERRORS, description=(
                "The request was refused: {\"detail\": sentence}, or each refused field's name with its "
                "messages (for a list, each refused item's index with its messages)."))
        if self.get_auth():
            refusals["401"] = OpenApiResponse(Refusal, description="No credentials, or a token that is not valid.")
        refusals["403"] = OpenApiResponse(Refusal, description=(
            "The role or the owner does not match (or, signed in by session, no CSRF token)."))
        if "{" in self.path:
            refusals["404"] = OpenApiResponse(Refusal, description="No such row, or not one this user may see.")
        if self.method == "POST":
            refusals["409"] = OpenApiResponse(Refusal, description="The row's state does not allow it (finished, expired).")
            refusals["413"] = OpenApiResponse(Refusal, description=(
                f"The JSON body or the form fields are over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes."))
            refusals["415"] = OpenApiResponse(Refusal, description="The body's media type is not the documented one.")
        refusals["503"] = OpenApiResponse(Refusal, description=(
            "The database did not answer; retry after Retry-After seconds with the same client UUID."))
        return refusals
