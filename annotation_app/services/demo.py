"""The demo seed: users of each role, a project of each kind, real sample photos plus drawn scenes.

Photos come from scikit-image's bundled samples (no download); the drawn scenes are generated
with Pillow so pointing has countable objects at known places.
"""

import io
import random
from dataclasses import dataclass

from django.db import transaction
from PIL import Image as PILImage
from PIL import ImageDraw

from annotation_app.models import CompareItem, Project, ProjectKind, Role, User, WorkItem
from annotation_app.services.images import ImageSource, images_import
from annotation_app.services.projects import project_add_images

SAMPLE_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "coins", "camera", "hubble_deep_field",
                 "immunohistochemistry", "moon", "page", "text", "horse", "colorwheel")
DEMO_USERS = {
    "annotator": (Role.ANNOTATOR, "annotate-demo-1"),
    "reviewer": (Role.REVIEWER, "review-demo-1"),
    "admin": (Role.ADMIN, "admin-demo-1"),
}
COMPARE_PROMPTS = [
    ("Describe this image in one sentence.", "captioning",
     "A photograph with a clear main subject in the centre.", "An image."),
    ("Point to the most prominent object.", "pointing",
     'The main subject: <point x="50.0" y="50.0" alt="main subject">main subject</point>', "There are none."),
]


@dataclass
class DemoSeed:
    users: dict[str, str]  # username → password
    projects: list[Project]
    images: int


@transaction.atomic
def demo_seed() -> DemoSeed:
    users = {name: _user(name, role, password) for name, (role, password) in DEMO_USERS.items()}
    admin = User.objects.get(username="admin")
    summary = images_import(sources=_demo_sources(), imported_by=admin)
    images = summary.images
    projects = [
        _project("Spoken captions (demo)", "demo-captions", ProjectKind.CAPTION, admin, overlap_k=1,
                 instructions="Describe the image aloud for 60 to 90 seconds, following the seven questions."),
        _project("Point at things (demo)", "demo-points", ProjectKind.POINTS, admin,
                 labels=["circle", "square", "triangle", "person", "cup", "cat"],
                 instructions="Pick a label, click every instance, or answer 'not present'."),
        _project("Ask model anything (demo)", "demo-ask", ProjectKind.ASK, admin,
                 instructions="Ask a question a person would ask about the image; steer the answer until it is right."),
        _project("Side-by-side preference (demo)", "demo-compare", ProjectKind.COMPARE, admin, overlap_k=3,
                 instructions="Pick the better answer, or a tie, or don't know."),
    ]
    for project in projects[:3]:
        project_add_images(project=project, images=images, actor=admin)
    _compare_items(projects[3], images)
    return DemoSeed(users=users, projects=projects, images=len(images))


def _user(username: str, role: str, password: str) -> str:
    user, _ = User.objects.get_or_create(username=username, defaults={"role": role})
    user.role = role
    user.is_staff = role == Role.ADMIN
    user.is_superuser = role == Role.ADMIN
    user.set_password(password)
    user.save()
    return password


def _project(name, slug, kind, admin, **options) -> Project:
    project, _ = Project.objects.get_or_create(slug=slug, defaults={"name": name, "kind": kind, "created_by": admin, **options})
    return project


def _compare_items(project: Project, images) -> None:
    for image in images[:6]:
        for variant, (prompt, category, answer_a, answer_b) in enumerate(COMPARE_PROMPTS):
            item, created = WorkItem.objects.get_or_create(
                project=project, image=image, variant=variant, defaults={"open_slots": project.overlap_k}
            )
            if created:
                CompareItem.objects.create(
                    work_item=item, prompt=prompt, category=category, model_a="demo-model-a",
                    response_a=answer_a, model_b="demo-model-b", response_b=answer_b,
                )


def _demo_sources():
    for name in SAMPLE_PHOTOS:
        yield ImageSource(name=f"skimage:{name}", load=lambda name=name: _sample_png(name),
                          license="scikit-image sample data (BSD-3-Clause / public domain)", topics=("sample",))
    for seed in range(6):
        yield ImageSource(name=f"generated:shapes-{seed}", load=lambda seed=seed: _shapes_png(seed),
                          license="CC0-1.0", topics=("generated", "shapes"))


def _sample_png(name: str) -> bytes:
    import skimage.data

    array = getattr(skimage.data, name)()
    buffer = io.BytesIO()
    PILImage.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def _shapes_png(seed: int) -> bytes:
    """A scene of coloured circles, squares and triangles at random places: easy to point at."""
    rng = random.Random(seed)
    image = PILImage.new("RGB", (640, 480), tuple(rng.randrange(180, 256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randrange(4, 12)):
        x, y, r = rng.randrange(40, 600), rng.randrange(40, 440), rng.randrange(12, 36)
        colour = tuple(rng.randrange(0, 160) for _ in range(3))
        shape = rng.choice(("circle", "square", "triangle"))
        if shape == "circle":
            draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
        elif shape == "square":
            draw.rectangle((x - r, y - r, x + r, y + r), fill=colour)
        else:
            draw.polygon([(x, y - r), (x - r, y + r), (x + r, y + r)], fill=colour)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
