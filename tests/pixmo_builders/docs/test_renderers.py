import io

import pytest
from PIL import Image

from pixmo_builders.docs.data import DocData
from pixmo_builders.docs.renderers import available_renderers

DATA = DocData(title="Fruit sold this week", items=(("Apples", 42.0), ("Pears", 17.0), ("Plums", 23.5)))


@pytest.mark.parametrize("name", ["matplotlib", "vegalite", "html", "graphviz"])
def test_each_renderer_draws_its_template_and_survives_broken_code(name):
    renderers = available_renderers()
    if name not in renderers:
        pytest.skip(f"{name} is not installed here")
    renderer = renderers[name]
    result = renderer.run(renderer.template(DATA))
    assert result.ok, result.error
    image = Image.open(io.BytesIO(result.output)).convert("L")
    low, high = image.getextrema()
    assert image.width >= 200 and high - low > 16
    broken = {
        "matplotlib": "import matplotlib.pyplot as plt\nplt.bar(",
        "vegalite": '{"mark": ',
        "html": None,
        "graphviz": "digraph { A -> }",
    }[name]
    if broken is not None:
        failed = renderer.run(broken)
        assert not failed.ok and failed.error


def test_code_is_taken_from_a_fenced_block_only_when_it_has_the_language_marker():
    renderer = available_renderers()["graphviz"] if "graphviz" in available_renderers() else None
    if renderer is None:
        pytest.skip("graphviz is not installed here")
    assert (
        renderer.extract_code(reply="Sure!\n```dot\ndigraph G { A -> B; }\n```\nDone.")
        == "digraph G { A -> B; }"
    )
    assert renderer.extract_code(reply="I cannot draw that.") is None
