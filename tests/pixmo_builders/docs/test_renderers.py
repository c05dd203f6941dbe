import io
import os

import pytest
from PIL import Image

from pixmo_builders.docs.data import DocData
from pixmo_builders.docs.renderers import RENDERERS, available_renderers, missing_renderers

DATA = DocData(title="Fruit sold this week", items=(("Apples", 42.0), ("Pears", 17.0), ("Plums", 23.5)))



def _renderer(name: str):
    renderers = available_renderers()
    if name not in renderers:
        message = "; ".join(need for need in missing_renderers() if need.startswith(name))
        if os.environ.get("PIXMO_REQUIRE_ALL_RENDERERS"):
            pytest.fail(f"the {name} renderer must run here: {message}")
        pytest.skip(message)
    return renderers[name]


def test_every_renderer_the_docs_generator_knows_is_tested():
    assert sorted(RENDERERS) == sorted(RENDERER_NAMES)


RENDERER_NAMES = ["matplotlib", "vegalite", "html", "graphviz", "plotly", "mermaid", "latex"]


@pytest.mark.parametrize("name", RENDERER_NAMES)
def test_each_renderer_draws_its_template_and_survives_broken_code(name):
    renderer = _renderer(name)
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
        "plotly": "import plotly.graph_objects as go\nfig = go.Figure(go.Bar(x=[1], y=",
        "mermaid": "flowchart LR\n  A[unclosed --> ",
        "latex": "\\documentclass{article}\\begin{document}\\undefinedcommand\\end{document}",
    }[name]
    if broken is not None:
        failed = renderer.run(broken)
        assert not failed.ok and failed.error


def test_latex_cannot_read_files_outside_its_folder():
    renderer = _renderer("latex")
    code = "\\documentclass{article}\\begin{document}\\input{/etc/hostname}\\end{document}"
    result = renderer.run(code)
    assert not result.ok
    assert "openin_any" in result.error or "not found" in result.error


def test_latex_errors_name_the_tex_error():
    result = _renderer("latex").run("\\documentclass{article}\\begin{document}\\nosuchcommand\\end{document}")
    assert not result.ok and "Undefined control sequence" in result.error


def test_mermaid_text_cannot_close_the_page_script():
    renderer = _renderer("mermaid")
    source = 'flowchart LR\n  A["</script><script>document.body.style.background=1</script>"] --> B["ok: 2"]'
    result = renderer.run(source)
    assert result.ok, result.error


def test_plotly_code_without_a_figure_fails_cleanly():
    result = _renderer("plotly").run("import plotly.graph_objects as go\nx = 1\n")
    assert not result.ok and "fig" in result.error


def test_code_is_taken_from_a_fenced_block_only_when_it_has_the_language_marker():
    renderer = _renderer("graphviz")
    assert (
        renderer.extract_code(reply="Sure!\n```dot\ndigraph G { A -> B; }\n```\nDone.")
        == "digraph G { A -> B; }"
    )
    assert renderer.extract_code(reply="I cannot draw that.") is None
