"""Text for the molmo2 family: the checkpoint's tokenizer and chat template turn an annotation's
turns into tokens, and mark which of them the loss is on.

A conversation renders, as the released chat template does, to
`<|image|><|im_start|>user\\n{question}<|im_end|>\\n<|im_start|>assistant\\n{answer}` with
`<|im_end|>\\n<|im_start|>user\\n…` before each further question. `<|image|>` becomes the image's
tokens and the processor puts BOS (EOS where the tokenizer has none) in front. We render with
the checkpoint's own template, so a released model is fine-tuned on the layout it was trained on,
and cut the rendering into prompt pieces and answers: each answer is followed by EOS, which
carries loss, as the answer does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from training.molmo2.config import IMAGE_TOKENS, TINY_VOCAB
from training.molmo2.images import Molmo2TokenIds

IMAGE_PLACEHOLDER = "<|image|>"

# The tiny preset's chat template: the released layout for one image and alternating turns.
CHAT_TEMPLATE = (
    "{%- set ns = namespace(images=0) -%}"
    "{%- for message in messages -%}{%- if message['content'] is not string -%}"
    "{%- for part in message['content'] -%}{%- if part['type'] == 'image' -%}"
    "{%- set ns.images = ns.images + 1 -%}{%- endif -%}{%- endfor -%}{%- endif -%}{%- endfor -%}"
    "{%- if ns.images == 1 -%}{{ '<|image|>' }}"
    "{%- elif ns.images > 1 -%}{%- for i in range(ns.images) -%}{{ 'Image ' ~ (i + 1) ~ '<|image|>' }}{%- endfor -%}"
    "{%- endif -%}"
    "{%- for message in messages -%}"
    "{%- if (loop.index0 % 2 == 0) != (message['role'] == 'user') -%}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{%- endif -%}"
    "{%- if message['content'] is string -%}{%- set text = message['content'] -%}"
    "{%- else -%}{%- set parts = namespace(text='') -%}{%- for part in message['content'] -%}"
    "{%- if part['type'] == 'text' -%}{%- set parts.text = parts.text ~ ('' if not parts.text else ' ') ~ part['text'] -%}"
    "{%- endif -%}{%- endfor -%}{%- set text = parts.text -%}{%- endif -%}"
    "{%- if message['role'] == 'user' -%}"
    "{%- if not loop.first -%}{{ '<|im_end|>\\n' }}{%- endif -%}"
    "{{ '<|im_start|>user\\n' ~ text ~ '<|im_end|>\\n' }}"
    "{%- else -%}{{ '<|im_start|>assistant\\n' ~ text }}{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n' }}{%- endif -%}"
)


TEXT_SPECIALS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")


def synthetic_tokenizer(vocab_size: int = TINY_VOCAB):
    """A byte-level tokenizer for models built from a preset: ids 0-255 are the bytes,
    `<|endoftext|>` 256 (padding), `<|im_start|>` 257, `<|im_end|>` 258 (EOS, and BOS as in the
    released tokenizers); ids up to `vocab_size` are reserved (never produced: there are no
    merges), so a 4B-shaped model keeps its 151,936-row embedding; the image tokens follow from
    `vocab_size` in the released order. It carries the chat template above."""
    from tokenizers import AddedToken

    from training.tokenizer import byte_level_tokenizer

    if vocab_size < TINY_VOCAB:
        raise ValueError(
            f"a synthetic tokenizer needs a text vocabulary of at least {TINY_VOCAB}, got {vocab_size}"
        )
    tokenizer = byte_level_tokenizer(TEXT_SPECIALS, vocab_size)
    # the text specials keep their ids and are never split; the image tokens follow the vocabulary
    specials = (*TEXT_SPECIALS, *IMAGE_TOKENS)
    tokenizer.add_tokens(
        [AddedToken(t, special=True, normalized=False) for t in specials], special_tokens=True
    )
    tokenizer.eos_token = tokenizer.bos_token = "<|im_end|>"
    tokenizer.pad_token = "<|endoftext|>"
    tokenizer.chat_template = CHAT_TEMPLATE
    if tokenizer.convert_tokens_to_ids("<im_start>") != vocab_size:
        raise AssertionError("the image tokens must start right after the text vocabulary")
    return tokenizer


@dataclass
class Encoded:
    tokens: list[int]
    is_answer: list[bool]  # the loss is on these (answers and the EOS after each)


class Molmo2Text:
    """The tokenizer and chat template of one molmo2 model, and the ids of its image tokens."""

    def __init__(self, hf_tokenizer, vocab_size: int):
        self.hf = hf_tokenizer
        if not getattr(hf_tokenizer, "chat_template", None):
            raise ValueError(
                "the molmo2 tokenizer has no chat template (chat_template.jinja beside tokenizer.json)"
            )
        self.eos_id = hf_tokenizer.eos_token_id
        if self.eos_id is None:
            raise ValueError("the molmo2 tokenizer defines no EOS token; every answer must end with one")
        self.eos = hf_tokenizer.convert_ids_to_tokens(self.eos_id)
        # the processor's rule: BOS, or EOS where the tokenizer has none
        self.bos_id = hf_tokenizer.bos_token_id if hf_tokenizer.bos_token_id is not None else self.eos_id
        self.pad_id = hf_tokenizer.pad_token_id if hf_tokenizer.pad_token_id is not None else self.eos_id
        self.vocab_size = vocab_size
        self.image_ids = Molmo2TokenIds.from_tokenizer(hf_tokenizer)
        self._check_image_ids()

    def _check_image_ids(self) -> None:
        for name in ("image_start", "low_res_image_start", "image_end", "image_patch", "image_col"):
            value = getattr(self.image_ids, name)
            if value < self.vocab_size:
                raise ValueError(
                    f"the tokenizer's {name} token has id {value}, inside the text vocabulary of {self.vocab_size}"
                )

    @classmethod
    def load(cls, folder: str | Path, vocab_size: int) -> Molmo2Text:
        from transformers import AutoTokenizer

        return cls(AutoTokenizer.from_pretrained(str(folder)), vocab_size)

    def save(self, folder: str | Path) -> None:
        """Beside the weights, as the released folders keep it (tokenizer files and chat template)."""
        self.hf.save_pretrained(str(folder))

    def encode(self, text: str) -> list[int]:
        return self.hf.encode(text, add_special_tokens=False)

    def decode(self, ids) -> str:
        return self.hf.decode([int(i) for i in ids if int(i) < self.vocab_size], skip_special_tokens=True)

    def render(self, turns: list[tuple[str, str | None]]) -> str:
        """The chat template's text for one image and `turns` of (question, answer); a last answer
        of None ends with the generation prompt."""
        messages = []
        for i, (question, answer) in enumerate(turns):
            content = [{"type": "image"}, {"type": "text", "text": question}] if i == 0 else question
            messages.append({"role": "user", "content": content})
            if answer is not None:
                messages.append({"role": "assistant", "content": answer})
        generation = turns[-1][1] is None
        return self.hf.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation)

    def prompt_tokens(self, question: str) -> list[int]:
        """What follows the image at inference: the first user turn and the generation prompt."""
        return self.encode(self._after_image(self.render([(question, None)])))

    def encode_turns(self, turns: list[tuple[str, str]]) -> Encoded:
        """The tokens after the image of a whole dialogue: prompt pieces (no loss) and each answer
        plus EOS (loss). Each turn's prompt is the template's generation prompt for that turn, so
        a one-turn annotation trains on exactly the text inference sends. A later turn's piece is
        what the template writes between the previous answer and the generation prompt (its EOS,
        where the template writes one, is the EOS we put after the answer). The history before it
        is the one trained on, even where a template renders past assistant turns a little
        differently from its generation prompt (the released one puts a space before them)."""
        tokens: list[int] = []
        is_answer: list[bool] = []
        for k, (question, answer) in enumerate(turns):
            asked = self.render([*turns[:k], (question, None)])
            if k == 0:
                piece = self._after_image(asked)
            else:
                previous = turns[k - 1][1]
                ask_at = asked.rfind(question)
                at = asked.rfind(previous, 0, ask_at) if ask_at >= 0 else -1
                if at < 0:
                    raise ValueError(
                        f"the chat template does not write turn {k}'s question after the answer before it"
                    )
                piece = asked[at + len(previous) :]
                piece = piece.removeprefix(self.eos)
            prompt, reply = self.encode(piece), self.encode(answer) + [self.eos_id]
            tokens += prompt + reply
            is_answer += [False] * len(prompt) + [True] * len(reply)
        return Encoded(tokens, is_answer)

    def _after_image(self, text: str) -> str:
        at = text.find(IMAGE_PLACEHOLDER)
        if at < 0:
            raise ValueError(f"the chat template wrote no {IMAGE_PLACEHOLDER} for the image")
        return text[at + len(IMAGE_PLACEHOLDER) :]
