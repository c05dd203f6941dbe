"""Text tokenizer plus Molmo's image special tokens.

The special tokens get ids just past the LLM's embedding table (`llm_vocab_size + i`), so they
never collide with text ids and their embeddings live in a separate table that trains with the
connector. They are only ever produced by the image preprocessor, never parsed from text.
"""

from __future__ import annotations

from pathlib import Path

from training.preprocessor import ImageTokenIds

SPECIAL_TOKENS = ("<im_start>", "<im_end>", "<im_patch>", "<im_col>", "<|image|>")


def byte_level_tokenizer(specials: tuple[str, ...] = ("<|endoftext|>",), vocab_size: int | None = None):
    """A byte-level tokenizer: ids 0-255 are the bytes, then `specials` (special tokens), then
    reserved ids up to `vocab_size` that are never produced. No merges, so it needs no trained
    vocabulary and never meets an unknown character. The first special is EOS. The default is the
    tiny config's 257 tokens."""
    from tokenizers import Tokenizer as RawTokenizer
    from tokenizers import decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {ch: byte for byte, ch in enumerate(bytes_to_unicode())}  # id == byte value, in every process
    for token in specials:
        vocab[token] = len(vocab)
    for i in range(len(vocab), vocab_size or 0):
        vocab[f"<|reserved_{i}|>"] = i
    raw = RawTokenizer(models.BPE(vocab=vocab, merges=[]))
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    raw.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(tokenizer_object=raw, eos_token=specials[0])


def bytes_to_unicode() -> list[str]:
    """The byte -> printable character table of byte-level BPE (GPT-2), indexed by byte."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    table, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            table[byte] = chr(byte)
        else:
            table[byte] = chr(256 + extra)
            extra += 1
    return [table[b] for b in range(256)]


class Tokenizer:
    def __init__(self, hf_tokenizer, llm_vocab_size: int):
        if len(hf_tokenizer) > llm_vocab_size:
            raise ValueError(
                f"tokenizer has {len(hf_tokenizer)} tokens but the LLM embeds only {llm_vocab_size}"
            )
        self.hf = hf_tokenizer
        self.llm_vocab_size = llm_vocab_size
        self.eos_id = hf_tokenizer.eos_token_id
        if self.eos_id is None:
            raise ValueError("the tokenizer defines no EOS token; every answer must end with one")
        # models without BOS use EOS as BOS
        self.bos_id = hf_tokenizer.bos_token_id if hf_tokenizer.bos_token_id is not None else self.eos_id
        self.special = {name: llm_vocab_size + i for i, name in enumerate(SPECIAL_TOKENS)}
        self.image_ids = ImageTokenIds(*(self.special[n] for n in SPECIAL_TOKENS[:4]))

    def encode(self, text: str) -> list[int]:
        return self.hf.encode(text, add_special_tokens=False)

    def decode(self, ids) -> str:
        return self.hf.decode([int(i) for i in ids if int(i) < self.llm_vocab_size and int(i) != self.eos_id])

    def save(self, folder: str | Path) -> None:
        self.hf.save_pretrained(str(folder))

    @classmethod
    def load(cls, folder: str | Path, llm_vocab_size: int, gguf_file: str | None = None) -> Tokenizer:
        from transformers import AutoTokenizer

        kwargs = {"gguf_file": gguf_file} if gguf_file else {}
        return cls(AutoTokenizer.from_pretrained(str(folder), **kwargs), llm_vocab_size)
