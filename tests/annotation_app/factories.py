"""factory_boy factories for the data model; images are generated, never downloaded."""

import hashlib
import io

import factory
from django.core.files.base import ContentFile
from PIL import Image as PILImage

from annotation_app.models import CompareItem, Image, Project, Role, User, WorkItem
from devtools.speech import wav_bytes  # noqa: F401 - the tests' WAV tone, imported from here


def png_bytes(width: int = 64, height: int = 48, colour=(200, 80, 40)) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()




class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.ANNOTATOR
    password = factory.django.Password("pw-for-tests")


class ImageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Image

    width = 64
    height = 48
    mime = "image/png"
    byte_size = 100
    # Each image's pixels differ, and its sha256 is that of its stored bytes, as after an import.
    sha256 = factory.LazyAttribute(lambda o: hashlib.sha256(o.content).hexdigest())
    file = factory.LazyAttribute(lambda o: ContentFile(o.content, name=f"{o.sha256}.png"))

    class Params:
        content = factory.LazyAttributeSequence(
            lambda o, n: png_bytes(o.width, o.height, (n % 256, (n // 256) % 256, 7))
        )


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"Project {n}")
    slug = factory.Sequence(lambda n: f"project-{n}")
    kind = "caption"
    overlap_k = 1


class WorkItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkItem

    project = factory.SubFactory(ProjectFactory)
    image = factory.SubFactory(ImageFactory)
    open_slots = factory.LazyAttribute(lambda o: o.project.overlap_k)


class CompareItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CompareItem

    work_item = factory.SubFactory(WorkItemFactory, project=factory.SubFactory(ProjectFactory, kind="compare"))
    prompt = "What is in the image?"
    model_a = "model-a"
    response_a = "A red square."
    model_b = "model-b"
    response_b = "An orange rectangle."
