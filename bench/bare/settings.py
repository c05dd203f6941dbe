"""The platform's settings with the bench's bare views mounted beside the real URLs."""

from annotation_app.settings import *

ROOT_URLCONF = "bench.bare.urls"
