"""lmms-eval model `pixmo_molmo`: one of our exported checkpoints answering lmms-eval's
generation tasks, greedily, one request at a time.

    python -m lmms_eval --model pixmo_molmo --model_args checkpoint=RUN --tasks chartqa

lmms-eval finds the class through the `lmms_eval.models` entry point in pyproject.toml
(`lmms_eval_plugin.manifest`), so the project must be installed in the harness's environment."""

from __future__ import annotations

from lmms_eval.api.model import lmms
from lmms_eval.api.registry import register_model
from tqdm import tqdm

from training.harness.prompting import cut_at_stop, first_image, styled_prompt
from training.infer import load_checkpoint


@register_model("pixmo_molmo")
class PixmoMolmo(lmms):
    is_simple = True  # lmms-eval hands over the task's text prompt, not chat messages

    def __init__(
        self, checkpoint: str, device: str | None = None, max_new_tokens: int = 128, style: bool = True,
        batch_size: int | str = 1, **unused,
    ) -> None:  # fmt: skip
        """`checkpoint`: a `pixmo train --out` folder or its model/ export. `style`: put Molmo's
        style prefix before the questions of tasks that are our benchmarks (training/benchmarks).
        lmms-eval's `--device` (default cuda) falls back to the CPU when no GPU is there."""
        super().__init__()
        import torch

        if not device or (str(device).startswith("cuda") and not torch.cuda.is_available()):
            device = "cpu"
        self.molmo = load_checkpoint(checkpoint, device=device)
        self.max_new_tokens = int(max_new_tokens)
        self.style = style if isinstance(style, bool) else str(style).lower() in ("1", "true", "yes")

    def generate_until(self, requests) -> list[str]:
        answers = []
        for request in tqdm(requests, desc="pixmo_molmo", disable=self.rank != 0):
            context, gen_kwargs, doc_to_visual, doc_id, task, split = request.args
            image = first_image(doc_to_visual(self.task_dict[task][split][doc_id]))
            prompt = styled_prompt(context, task) if self.style else context
            max_new = int(gen_kwargs.get("max_new_tokens") or self.max_new_tokens)
            answer = cut_at_stop(
                self.molmo.generate(image, prompt, max_new_tokens=max_new), gen_kwargs.get("until")
            )
            self.cache_hook.add_partial("generate_until", (context, gen_kwargs), answer)
            answers.append(answer)
        return answers

    def generate_until_multi_round(self, requests) -> list[str]:
        raise NotImplementedError(
            "pixmo_molmo answers single-turn questions only; multi-round tasks are not supported"
        )

    def loglikelihood(self, requests) -> list[tuple[float, bool]]:
        raise NotImplementedError(
            "pixmo_molmo only generates: Molmo is evaluated on generation tasks (output_type: generate_until), "
            "so loglikelihood tasks are not supported"
        )
