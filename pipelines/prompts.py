"""Versioned prompt templates: an id, a version and a sha256 of the content travel with every output.

Changing a template's text means adding a new version; the hash makes an accidental edit
visible in provenance.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from pipelines.llm_types import ChatMessage
from pipelines.prompt_library import TEMPLATES
from pipelines.provenance import text_sha256


@dataclass(frozen=True, kw_only=True)
class PromptTemplate:
    id: str  # e.g. "refine.single"
    version: int
    system: str
    user: str  # str.format template; placeholders documented in prompt_library

    @property
    def key(self) -> str:
        return f"{self.id}@v{self.version}"

    @cached_property
    def sha256(self) -> str:
        return text_sha256(f"{self.system}\x00{self.user}")

    def ref(self) -> dict[str, str]:
        """What provenance records: the versioned id and the content hash."""
        return {"id": self.key, "sha256": self.sha256}

    def render(self, **values: str) -> list[ChatMessage]:
        """System + user messages with the placeholders filled; a missing value is a KeyError."""
        return [
            ChatMessage(role="system", content=self.system),
            ChatMessage(role="user", content=self.user.format(**values)),
        ]


_REGISTRY: dict[str, PromptTemplate] = {
    f"{entry['id']}@v{entry['version']}": PromptTemplate(**entry) for entry in TEMPLATES
}


def get_prompt(name: str) -> PromptTemplate:
    """`name` is "id@vN" for one version or "id" for the newest version of that id."""
    if name in _REGISTRY:
        return _REGISTRY[name]
    versions = [template for template in _REGISTRY.values() if template.id == name]
    if not versions:
        raise KeyError(f"No prompt template {name!r}; known: {', '.join(sorted(_REGISTRY))}.")
    return max(versions, key=lambda template: template.version)


def all_prompts() -> list[PromptTemplate]:
    return sorted(_REGISTRY.values(), key=lambda template: template.key)
