"""Templated prompts for the docs generator; each has an id and a sha256 for provenance.

They are short, show the exact shape wanted, and end where the answer should start: the
bundled 135M model follows a shape it has just seen far better than an instruction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class PromptTemplate:
    prompt_id: str
    system: str
    user: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(f"{self.system}\n---\n{self.user}".encode()).hexdigest()

    def messages(self, **fields: str) -> list[dict[str, str]]:
        return [
            {"role": "system", "content": self.system},
            {"role": "user", "content": self.user.format(**fields)},
        ]


DATA = PromptTemplate(
    prompt_id="docs-data-v3",
    system="You write small, realistic data sets. Reply with one line per label: the label, a colon, a number.",
    user=(
        "Topic: fruit sold at a stall\nLabels: Apples, Pears, Plums, Figs\nData:\n"
        "Apples: 42\nPears: 17\nPlums: 23\nFigs: 9\n\n"
        "Topic: {topic}\nLabels: {labels}\nData:"
    ),
)
CODE = PromptTemplate(
    prompt_id="docs-code-v2",
    system="You write short, correct code that draws data. Reply with one code block only.",
    user=(
        "Data: {data}\nWrite {language} that shows this data, with every label and value.\n"
        "Example of the shape:\n```\n{example}\n```\nCode:\n```\n{prelude}"
    ),
)
QUESTION = PromptTemplate(
    prompt_id="docs-qa-v2",
    system="You write one question and its answer about a document, using only the code that draws it.",
    user=(
        "Code:\n```\nlabels = ['Apples', 'Pears', 'Plums', 'Figs']\nvalues = [42, 17, 23, 9]\n```\n"
        "{instruction}\n{example}\n\nCode:\n```\n{code}\n```\n{instruction}\nQuestion:"
    ),
)
QA_INSTRUCTIONS = {
    "short": "Ask for one number shown for one label. The answer is that number.",
    "choice": "Ask which label has the largest value, listing four labels as A, B, C, D. The answer is one letter.",
    "yes_no": "Ask a yes-or-no question comparing two labels. The answer is Yes or No.",
    "summary": "Ask for a summary of the document. The answer is one sentence.",
}
# One worked example per kind, about the fruit code above, in the exact reply shape.
QA_EXAMPLES = {
    "short": "Question: What value is shown for Pears?\nAnswer: 17",
    "choice": "Question: Which label has the largest value? A. Pears B. Apples C. Figs D. Plums\nAnswer: B",
    "yes_no": "Question: Is the value for Plums greater than the value for Figs?\nAnswer: Yes",
    "summary": "Question: Summarize the document.\nAnswer: Apples sell most at 42 and Figs least at 9.",
}
# The summary is asked for directly: the bundled model describes a chart's code in a sentence far
# more often than it follows the Question/Answer shape (measured in the data card's yield).
SUMMARY = PromptTemplate(
    prompt_id="docs-summary-v1",
    system="You describe a chart in one sentence, from the code that draws it.",
    user="Code:\n```\n{code}\n```\nDescribe what this chart shows in one sentence.",
)
ALL_PROMPTS = (DATA, CODE, QUESTION, SUMMARY)
