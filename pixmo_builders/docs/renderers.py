"""Renderers: how code in one language becomes a PNG inside the sandbox.

Each renderer knows how to ask for its code, how to pull code out of a model's reply, a
deterministic template to fall back to, and how to run code to an image.
"""

from __future__ import annotations

import html
import importlib.util
import io
import json
import os
import re
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

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


def run_html(code: str, *, script_ms: int = 0) -> SandboxResult:
    """Screenshot a page; `script_ms` of virtual time lets its scripts finish drawing first."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or "chromium"
    flags = [*CHROMIUM_FLAGS, *([f"--virtual-time-budget={script_ms}"] if script_ms else [])]
    argv = [chromium, *flags, "--screenshot={folder}/out.png", "file://{folder}/page.html"]
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


# -- Plotly (Python builds the figure, headless Chromium draws it) -------------------------

PLOTLY_WRITER = """
import plotly.io as _pio
_pio.write_html(fig, "page.html", include_plotlyjs={script!r}, full_html=True, default_width=800,
                default_height=600, config={{"staticPlot": True}})
"""


def plotly_js_path() -> Path | None:
    """plotly.min.js as the plotly package ships it, found without importing plotly."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "package_data" / "plotly.min.js"
    return path if path.is_file() else None


def plotly_template(data: DocData) -> str:
    return plotly_prelude(data) + (
        "fig = go.Figure(go.Pie(labels=labels, values=values, textinfo='label+value', sort=False))\n"
        f"fig.update_layout(title={data.title!r}, width=800, height=600)\n"
    )


def plotly_prelude(data: DocData) -> str:
    labels, values = _labels_values(data)
    return f"import plotly.graph_objects as go\nlabels = {labels!r}\nvalues = {values!r}\n"


def run_plotly(code: str) -> SandboxResult:
    script = plotly_js_path()
    if script is None:
        return SandboxResult(ok=False, output=None, error="plotly is not installed", seconds=0.0)
    page = run_sandboxed(
        argv=[sys.executable, "render.py"],
        files={"render.py": (code + PLOTLY_WRITER.format(script=script.as_uri())).encode()},
        output_name="page.html",
    )
    if not page.ok:
        return page
    shot = run_html(page.output.decode(), script_ms=5000)
    return SandboxResult(ok=shot.ok, output=shot.output, error=shot.error, seconds=page.seconds + shot.seconds)


# -- Mermaid (mermaid.js in headless Chromium) --------------------------------------------

MERMAID_VERSION = "12.3.0"
MERMAID_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<style>body{{margin:24px;background:#fff;font-family:sans-serif}}</style></head><body>
<div id="out"></div>
<script src="{script}"></script>
<script>
mermaid.initialize({{startOnLoad: false, securityLevel: "strict", suppressErrorRendering: true}});
// A diagram that does not parse leaves the page blank, and a blank page is rejected.
mermaid.render("doc", {source}).then(({{svg}}) => {{ document.getElementById("out").innerHTML = svg; }})
  .catch(() => {{}});
</script></body></html>
"""


def mermaid_js_path() -> Path | None:
    """mermaid.min.js: $PIXMO_MERMAID_JS, else where scripts/install.sh puts it in the venv."""
    configured = os.environ.get("PIXMO_MERMAID_JS")
    path = Path(configured) if configured else Path(sys.prefix) / "share" / "pixmo" / "mermaid.min.js"
    return path if path.is_file() else None


def _mermaid_text(text: str) -> str:
    return text.replace('"', "'")


def mermaid_template(data: DocData) -> str:
    nodes = "".join(
        f'  n{i}["{_mermaid_text(label)}: {value:g}"]\n' for i, (label, value) in enumerate(data.items)
    )
    edges = "".join(f"  n{i} --> n{i + 1}\n" for i in range(len(data.items) - 1))
    return f"---\ntitle: {_mermaid_text(data.title)}\n---\nflowchart LR\n{nodes}{edges}"


def mermaid_prelude(data: DocData) -> str:
    return "flowchart LR\n"


def run_mermaid(code: str) -> SandboxResult:
    script = mermaid_js_path()
    if script is None:
        return SandboxResult(ok=False, output=None, error="mermaid.min.js is not installed", seconds=0.0)
    # "</" is escaped so the diagram's text cannot close the script element.
    page = MERMAID_PAGE.format(script=script.as_uri(), source=json.dumps(code).replace("</", "<\\/"))
    shot = run_html(page, script_ms=5000)
    if shot.ok and is_blank(png=shot.output):
        return SandboxResult(ok=False, output=None, error="the diagram did not parse", seconds=shot.seconds)
    return shot


def is_blank(*, png: bytes) -> bool:
    """One flat colour, or not an image at all: nothing was drawn."""
    try:
        image = Image.open(io.BytesIO(png)).convert("L")
    except Exception:  # noqa: BLE001 - any decoder failure means "not an image"
        return True
    low, high = image.getextrema()
    return high - low <= 16


# -- LaTeX (latex + dvipng) ---------------------------------------------------------------

LATEX_SPECIALS = {char: f"\\{char}" for char in "&%$#_{}"} | {"~": r"\textasciitilde{}", "^": r"\^{}"}
# On failure, TeX's first error line ("! Undefined control sequence.") becomes the message.
LATEX_COMMAND = (
    "latex -no-shell-escape -interaction=nonstopmode -halt-on-error doc.tex >/dev/null "
    "|| { grep -m1 '^!' doc.log >&2; exit 1; }; "
    "dvipng -q -T tight -D 200 -bg 'rgb 1 1 1' -o out.png doc.dvi >/dev/null"
)
# kpathsea's paranoid mode: TeX may read and write only below the sandbox folder (and its own
# trees), never an absolute path such as a credentials file.
LATEX_ENV = {"openin_any": "p", "openout_any": "p", "shell_escape": "f"}


def latex_escape(text: str) -> str:
    return "".join(LATEX_SPECIALS.get(char, char) for char in text)


def latex_prelude(data: DocData) -> str:
    return (
        "\\documentclass{article}\n\\pagestyle{empty}\n\\begin{document}\n"
        f"\\section*{{{latex_escape(data.title)}}}\n"
        "\\begin{tabular}{|l|r|}\n\\hline\nItem & Value \\\\\n\\hline\n"
    )


def latex_template(data: DocData) -> str:
    rows = "".join(f"{latex_escape(label)} & {value:g} \\\\\n" for label, value in data.items)
    return latex_prelude(data) + f"{rows}\\hline\n\\end{{tabular}}\n\\end{{document}}\n"


def run_latex(code: str) -> SandboxResult:
    return run_sandboxed(
        argv=["sh", "-c", LATEX_COMMAND],
        files={"doc.tex": code.encode()},
        output_name="out.png",
        env=LATEX_ENV,
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
        Renderer(
            name="plotly",
            config="charts",
            language="Python with plotly.graph_objects (a figure named fig)",
            example="fig = go.Figure(go.Bar(x=labels, y=values))\nfig.update_layout(title='Title')",
            template=plotly_template,
            run=run_plotly,
            marker="go.",
            prelude=plotly_prelude,
        ),
        Renderer(
            name="mermaid",
            config="diagrams",
            language="a Mermaid flowchart",
            example='flowchart LR\n  A["Step A: 3"] --> B["Step B: 5"]',
            template=mermaid_template,
            run=run_mermaid,
            marker="flowchart",
            prelude=mermaid_prelude,
        ),
        Renderer(
            name="latex",
            config="tables",
            language="a LaTeX document with a tabular",
            example="\\documentclass{article}\n\\begin{document}\n\\begin{tabular}{|l|r|}\nA & 3 \\\\\n"
            "\\end{tabular}\n\\end{document}",
            template=latex_template,
            run=run_latex,
            marker="\\begin{tabular}",
            prelude=latex_prelude,
        ),
    )
}

# What each renderer needs: a check that it is present here, and how to say it is not.
RENDERER_NEEDS: dict[str, tuple[Callable[[], bool], str]] = {
    "matplotlib": (lambda: importlib.util.find_spec("matplotlib") is not None, "the matplotlib package"),
    "vegalite": (lambda: importlib.util.find_spec("vl_convert") is not None, "the vl-convert-python package"),
    "html": (lambda: _chromium_present(), "chromium"),
    "graphviz": (lambda: shutil.which("dot") is not None, "the dot program (Debian graphviz)"),
    "plotly": (lambda: _chromium_present() and plotly_js_path() is not None, "the plotly package and chromium"),
    "mermaid": (
        lambda: _chromium_present() and mermaid_js_path() is not None,
        "chromium and mermaid.min.js (scripts/install.sh fetches it)",
    ),
    "latex": (
        lambda: shutil.which("latex") is not None and shutil.which("dvipng") is not None,
        "latex and dvipng (Debian texlive-latex-base, dvipng)",
    ),
}


def _chromium_present() -> bool:
    return bool(shutil.which("chromium") or shutil.which("chromium-browser"))


def available_renderers() -> dict[str, Renderer]:
    """Renderers whose tools are installed here."""
    return {name: renderer for name, renderer in RENDERERS.items() if RENDERER_NEEDS[name][0]()}


def missing_renderers() -> list[str]:
    """Renderers that cannot run here, each with what it needs."""
    return [f"{name} needs {need}" for name, (present, need) in RENDERER_NEEDS.items() if not present()]
