"""Request body parsers for every API endpoint: strict JSON with a nesting limit, and a size limit.

DRF's own JSON and form parsers read the body from the stream, which skips Django's
DATA_UPLOAD_MAX_MEMORY_SIZE check, so these apply that limit themselves. Python's json module
recurses once per nesting level: a body nested ~1000 deep would raise RecursionError, and no
input of ours is nested more than a few levels, so anything past MAX_JSON_DEPTH is refused.
"""

import json
import math
import re

from django.conf import settings
from django.http import QueryDict
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import FormParser, JSONParser, get_encoding

MAX_JSON_DEPTH = 32  # levels of arrays and objects; our deepest input (point sets) uses 4
_SURROGATE = re.compile("[\ud800-\udfff]")


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"


def read_limited(stream) -> bytes:
    """The whole body, refused past DATA_UPLOAD_MAX_MEMORY_SIZE bytes (None: no limit)."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is None:
        return stream.read()
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise RequestTooLarge(f"the request body is over the {limit:,}-byte limit")
    return body


class LimitedJSONParser(JSONParser):
    """RFC 8259 JSON only: no NaN or Infinity, no lone surrogates, at most MAX_JSON_DEPTH levels."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = get_encoding(parser_context or {})
        body = read_limited(stream)
        try:
            text = body.decode(encoding)
        except UnicodeDecodeError as error:
            raise ParseError(f"the body is not valid {encoding} text (byte {error.start})") from None
        try:
            data = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
        except RecursionError:
            raise ParseError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
        except ValueError as error:
            raise ParseError(f"malformed JSON: {error}") from None
        _check_tree(data)
        return data


class LimitedFormParser(FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        return QueryDict(read_limited(stream), encoding=get_encoding(parser_context or {}))


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:20]} is out of the range of a 64-bit float")
    return value


def _check_tree(data) -> None:
    """Walks the parsed body without recursion: depth, and strings that are not valid Unicode."""
    pending = [(data, 1)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, str):
            _check_string(node)
            continue
        if not isinstance(node, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            raise ParseError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(node, dict):
            for key in node:
                _check_string(key)
            pending.extend((value, depth + 1) for value in node.values())
        else:
            pending.extend((value, depth + 1) for value in node)


def _check_string(text: str) -> None:
    # A lone surrogate (\ud800 alone) decodes but cannot be encoded as UTF-8, so no database,
    # file or log can store it.
    if _SURROGATE.search(text):
        raise ParseError("a JSON string holds a lone surrogate (\\ud800-\\udfff), which is not Unicode text")
