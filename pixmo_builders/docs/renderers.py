"""Renderers: how code in one language becomes a PNG inside the sandbox.

Each renderer knows how to ask for its code, how to pull code out of a model's reply, a
deterministic template to fall back to, and how to run code to an image.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass

from pixmo_builders.docs.data import DocData
from pixmo_builders.docs.sandbox import SandboxLimits, SandboxResult, run_sandboxed

FENCE = re.compile(r"```[a-zA-Z-]*\n(.*?)(?:```|$)", re.DOTALL)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--hide-scrollbars",
    "--proxy-server=127.0.0.1:9",
    "--window-size=800,600",
)
PAGE_SIZE_PX = (800, 600)


@dataclass(frozen=True)
class Renderer:
    name: str
    config: str  # the pixmo-docs config: charts, tables, diagrams or other
    language: str  # as named to the model
    example: str  # a short example of the expected code shape, shown to the model
    template: Callable[[DocData], str]
    run: Callable[[str], SandboxResult]
    marker: str  # a string every usable reply must contain
    # Code the model continues from (e.g. the data as Python lists); "" to write it all.
    prelude: Callable[[DocData], str] = lambda data: ""

    def extract_code(self, *, reply: str, prelude: str = "") -> str | None:
        """The code in a reply, after the prelude unless the model wrote the prelude again."""
        match = FENCE.search(reply)
        code = (match.group(1) if match else reply.split("```")[0]).strip()
        first_line = prelude.strip().splitlines()[0] if prelude.strip() else ""
        if prelude and not code.startswith(first_line):
            code = prelude + code
        return code if self.marker in code else None


def shows_data(*, code: str, data: DocData) -> bool:
    """Whether code mentions every label and value, i.e. can draw this data and no other."""
    return all(label in code and (f"{value:g}" in code or str(value) in code) for label, value in data.items)


def _labels_values(data: DocData) -> tuple[list[str], list[float]]:
    return [label for label, _ in data.items], [value for _, value in data.items]


# -- matplotlib ---------------------------------------------------------------------------


def matplotlib_template(data: DocData) -> str:
    labels, values = _labels_values(data)
    return (
        "import matplotlib.pyplot as plt\n"
        f"labels = {labels!r}\nvalues = {values!r}\n"
        "fig, ax = plt.subplots(figsize=(8, 5))\n"
        "ax.bar(labels, values, color='#4C72B0')\n"
        f"ax.set_title({data.title!r})\n"
        "for i, v in enumerate(values):\n    ax.text(i, v, str(v), ha='center', va='bottom')\n"
        "plt.xticks(rotation=20)\nplt.tight_layout()\nplt.savefig('out.png', dpi=100)\n"
    )


def matplotlib_prelude(data: DocData) -> str:
    labels, values = _labels_values(data)
    return f"import matplotlib.pyplot as plt\nlabels = {labels!r}\nvalues = {values!r}\n"


def run_matplotlib(code: str) -> SandboxResult:
    if "savefig" not in code:
        code += "\nimport matplotlib.pyplot as plt\nplt.savefig('out.png', dpi=100)\n"
    return run_sandboxed(
        argv=[sys.executable, "render.py"], files={"render.py": code.encode()}, output_name="out.png"
    )


# -- Vega-Lite ----------------------------------------------------------------------------

VEGA_RUNNER = (
    "import json, vl_convert\n"
    "spec = json.load(open('spec.json'))\n"
    "open('out.png', 'wb').write(vl_convert.vegalite_to_png(spec, scale=1.5))\n"
)


def vegalite_template(data: DocData) -> str:
    spec = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": data.title,
        "width": 420,
        "height": 260,
        "data": {"values": [{"label": label, "value": value} for label, value in data.items]},
        "mark": {"type": "line", "point": True},
        "encoding": {
            "x": {"field": "label", "type": "nominal", "sort": None},
            "y": {"field": "value", "type": "quantitative"},
        },
    }
    return json.dumps(spec, indent=1)


def run_vegalite(code: str) -> SandboxResult:
    try:
        json.loads(code)
    except json.JSONDecodeError as error:
        return SandboxResult(ok=False, output=None, error=f"spec is not JSON: {error}", seconds=0.0)
    # The V8 engine inside vl-convert reserves far more address space than it uses.
    limits = SandboxLimits(memory_bytes=None)
    files = {"run.py": VEGA_RUNNER.encode(), "spec.json": code.encode()}
    return run_sandboxed(argv=[sys.executable, "run.py"], files=files, output_name="out.png", limits=limits)


# -- HTML (headless Chromium) -------------------------------------------------------------


def html_template(data: DocData) -> str:
    rows = "".join(f"<tr><td>{html.escape(label)}</td><td>{value:g}</td></tr>" for label, value in data.items)
    return (
        "<!DOCTYPE html><html><head><style>body{font-family:sans-serif;margin:30px}"
        "table{border-collapse:collapse}td,th{border:1px solid #444;padding:6px 14px}th{background:#dde}"
        f"</style></head><body><h2>{html.escape(data.title)}</h2><table><tr><th>Item</th><th>Value</th></tr>"
        f"{rows}</table></body></html>"
    )


def run_html(code: str) -> SandboxResult:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or "chromium"
    argv = [chromium, *CHROMIUM_FLAGS, "--screenshot={folder}/out.png", "file://{folder}/page.html"]
    # Chromium reserves far more address space than it uses: a cap would kill it at start.
    limits = SandboxLimits(timeout_s=45.0, cpu_s=60, memory_bytes=None)
    return run_sandboxed(argv=argv, files={"page.html": code.encode()}, output_name="out.png", limits=limits)


# -- Graphviz -----------------------------------------------------------------------------


def graphviz_template(data: DocData) -> str:
    nodes = "".join(f'  n{i} [label="{label}\\n{value:g}"];\n' for i, (label, value) in enumerate(data.items))
    edges = "".join(f"  n{i} -> n{i + 1};\n" for i in range(len(data.items) - 1))
    return (
        f'digraph G {{\n  label="{data.title}"; labelloc=t; rankdir=LR;\n'
        f"  node [shape=box, style=filled, fillcolor=lightyellow];\n{nodes}{edges}}}\n"
    )


def run_graphviz(code: str) -> SandboxResult:
    return run_sandboxed(
        argv=["dot", "-Tpng", "graph.dot", "-o", "out.png"],
        files={"graph.dot": code.encode()},
        output_name="out.png",
    )


RENDERERS: dict[str, Renderer] = {
    renderer.name: renderer
    for renderer in (
        Renderer(
            name="matplotlib",
            config="charts",
            language="Python with matplotlib",
            example="plt.bar(labels, values)\nplt.title('Title')\nplt.savefig('out.png')",
            template=matplotlib_template,
            run=run_matplotlib,
            marker="plt.",
            prelude=matplotlib_prelude,
        ),
        Renderer(
            name="vegalite",
            config="charts",
            language="a Vega-Lite JSON specification",
            example='{"data": {"values": [{"label": "A", "value": 3}]}, "mark": "bar", "encoding": '
            '{"x": {"field": "label", "type": "nominal"}, "y": {"field": "value", "type": "quantitative"}}}',
            template=vegalite_template,
            run=run_vegalite,
            marker='"mark"',
        ),
        Renderer(
            name="html",
            config="tables",
            language="an HTML page with a table",
            example="<html><body><h2>Title</h2><table><tr><td>A</td><td>3</td></tr></table></body></html>",
            template=html_template,
            run=run_html,
            marker="<table",
        ),
        Renderer(
            name="graphviz",
            config="diagrams",
            language="a Graphviz DOT digraph",
            example='digraph G { A [label="Step A"]; B [label="Step B"]; A -> B; }',
            template=graphviz_template,
            run=run_graphviz,
            marker="digraph",
        ),
    )
}


def available_renderers() -> dict[str, Renderer]:
    """Renderers whose tools are installed here."""
    usable = dict(RENDERERS)
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        usable.pop("html")
    if not shutil.which("dot"):
        usable.pop("graphviz")
    try:
        import vl_convert  # noqa: F401
    except ImportError:
        usable.pop("vegalite")
    return usable
