"""`pixmo refine` as a user runs it (a new process, the real bundled model): the caption on
stdout, and on stderr which sentences the model changed and which rewrites were refused, why."""

import re

from tests.pixmo_cli.conftest import pixmo

RUN_ON = ("um so this is a photo of a kitchen and there is a uh wooden table with three red apples in a white "
          "bowl and on the left there is a black cat sleeping on a green chair")


def test_refine_lists_the_sentences_the_model_changed_and_refused(tmp_path):
    path = tmp_path / "spoken.txt"
    path.write_text(RUN_ON)
    run = pixmo("refine", str(path), env={"PIXMO_REFINE_STRATEGY": "sentences"})
    assert run.returncode == 0, run.stderr
    caption = run.stdout.strip()
    assert caption.count(".") == 3 and "um" not in caption.split()
    summary = re.search(r"pixmo refine: the LLM changed (\d) of 3 sentences; (\d) rewrites? refused\.", run.stderr)
    assert summary, run.stderr
    changed, refused = int(summary.group(1)), int(summary.group(2))
    assert run.stderr.count("  changed: ") == changed and run.stderr.count("       to: ") == changed
    assert run.stderr.count("  refused: ") == refused and run.stderr.count("      why: The rewrite") == refused
    for rewrite in re.findall(r"       to: (.*)", run.stderr):
        assert rewrite in caption
