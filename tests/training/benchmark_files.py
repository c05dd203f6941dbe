"""Tiny benchmark files for the tests, each benchmark in both formats people have: a VLMEvalKit TSV
(base64 images, answers as JSON lists where there are several, options as columns A, B, …) and a
Hugging Face parquet folder (`data/<split>-00000-of-00001.parquet`, images as {bytes, path}
structs, the dataset's own column names). Each case comes with predictions that hit the metric's
edge cases and the score worked out by hand from the official definition (in the comments)."""

from __future__ import annotations

import base64
import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

COUNT_3 = 'Counting the <points x1="1.0" y1="1.0" x2="2.0" y2="2.0" x3="3.0" y3="3.0" alt="dogs">dogs</points> shows a total of 3.'
POINTS_4 = '<points x1="10.0" y1="10.0" x2="20.0" y2="20.0" x3="30.0" y3="30.0" x4="40.0" y4="40.0" alt="dogs">dogs</points>'


def png(colour=(90, 120, 160), size=(48, 32)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


@dataclass
class Case:
    name: str
    tsv: list[dict]  # VLMEvalKit rows (image added by the writer)
    parquet: list[dict]  # Hugging Face rows (image struct added under `image_column`)
    predictions: list[str]  # one per row, same order in both formats
    score: float  # percent, worked out by hand
    image_column: str = "image"
    within_one: float | None = None
    split: str = "test"
    # the indexes predictions name in the parquet layout (default: the TSV's)
    parquet_index: list = field(default_factory=list)


def _vqa_answers(answers):
    return [{"answer": a, "answer_id": i + 1, "answer_confidence": "yes"} for i, a in enumerate(answers)]


VQA = [  # (question, ten answers, prediction, hand score)
    # "Two." -> "2"; two of ten say 2: 2 subsets see 1 match (1/3), 8 see 2 (2/3): (2/3 + 16/3) / 10 = 0.6
    ("How many dogs?", ["2", "two"] + ["3"] * 8, "Two.", 0.6),
    # "The dog" -> "dog", as "the dog" and "a dog": three agree: 3 subsets see 2 (2/3), 7 see 3 (1): 0.9
    ("What animal?", ["dog", "the dog", "a dog"] + ["cat"] * 7, "The dog", 0.9),
    # "don't" = "dont" (contractions map), four agree: every subset sees >= 3: 1
    ("Can you park here?", ["dont"] * 4 + ["no"] * 6, "don't", 1.0),
    ("Is it raining?", ["yes"] * 10, "no", 0.0),
]  # mean (0.6 + 0.9 + 1 + 0) / 4 = 0.625
TEXTVQA = [
    ("What does the sign say?", ["stop"] * 10, "STOP!", 1.0),  # "!" -> " ", lower case
    ("What brand?", ["coca cola"] + ["coke"] * 9, "coca-cola", 0.3),  # "-" -> " "; one of ten: 9 x 1/3 / 10
]  # mean 0.65
DOCVQA = [  # (question, accepted answers, prediction, hand score)
    ("What is the total?", ["$1,234", "1234"], "1234", 1.0),  # the best accepted answer
    ("What is the code?", ["abcdefghij"], "abcdefXXXX", 0.6),  # distance 4/10 = 0.4 < 0.5: 1 - 0.4
    ("What is the key?", ["abcdefghij"], "abcdeXXXXX", 0.0),  # distance 5/10 = 0.5, not below 0.5: 0
    ("Who is it addressed to?", ["Dear Dr. Lobo"], "dear dr. lobo", 1.0),  # case-insensitive
]  # mean 0.65
INFOVQA = [
    ("Which continent?", "Asia", "asia", 1.0),
    ("How many people?", ["1.5 million"], "1.5 millions", 1 - 1 / 12),  # one insertion in 12 characters
]  # mean (1 + 11/12) / 2 = 0.958333...
CHARTQA = [  # (question, answer, prediction, correct)
    ("Value of A?", "100", "105", 1),  # 5 % off: within
    ("Value of B?", "100", "105.1", 0),  # 5.1 % off
    ("Value of C?", "45", "45%", 1),  # the sign the chart shows
    ("Value of D?", "1,234", "1234", 1),  # thousands comma
    ("Is A above B?", "Yes", "yes", 1),  # text: exact, case-insensitive
    ("Share of E?", "0.45", "45%", 1),  # 45 % = 0.45 (pix2struct)
    ("Largest region?", "Asia", "Asia.", 0),  # text: exact
]  # 5 of 7
AI2D_OPTIONS = [["leaf", "root", "stem", "flower"], ["leaf", "root", "stem", "flower"], ["sun", "moon", "star", "comet"],
                ["C", "A", "D", "B"]]  # fmt: skip
AI2D = [  # (question, options, answer position, prediction, correct)
    ("Which part absorbs water?", AI2D_OPTIONS[0], 1, "The answer is (B).", 1),
    ("Which part holds the plant up?", AI2D_OPTIONS[1], 2, "stem", 1),  # the option's text
    ("What gives light?", AI2D_OPTIONS[2], 0, "D", 0),
    # options are the diagram's own letters: asked unlabelled and answered with a letter itself;
    # the answer is the fourth option, whose text is "B", so "B" is right (not the second option)
    ("Which label marks the roots?", AI2D_OPTIONS[3], 3, "B", 1),
]  # 3 of 4


def _tsv_choice(options):
    return {chr(ord("A") + i): o for i, o in enumerate(options)}


def cases() -> list[Case]:
    return [
        Case("vqav2",
             [{"index": i, "question": q, "answer": json.dumps(a)} for i, (q, a, _, _) in enumerate(VQA, 1)],
             [{"question_id": 100 + i, "question": q, "answers": _vqa_answers(a)} for i, (q, a, _, _) in enumerate(VQA, 1)],
             [p for _, _, p, _ in VQA], 62.5, split="validation", parquet_index=[101, 102, 103, 104]),
        Case("textvqa",
             [{"index": i, "question": q, "answer": json.dumps(a)} for i, (q, a, _, _) in enumerate(TEXTVQA, 1)],
             [{"question_id": i, "question": q, "answers": a} for i, (q, a, _, _) in enumerate(TEXTVQA, 1)],
             [p for _, _, p, _ in TEXTVQA], 65.0, split="validation"),
        Case("docvqa",
             [{"index": i, "question": q, "answer": json.dumps(a)} for i, (q, a, _, _) in enumerate(DOCVQA, 1)],
             [{"questionId": i, "question": q, "answers": a} for i, (q, a, _, _) in enumerate(DOCVQA, 1)],
             [p for _, _, p, _ in DOCVQA], 65.0, split="validation"),
        Case("infovqa",
             # VLMEvalKit writes lists as Python literals; one answer as plain text
             [{"index": 1, "question": INFOVQA[0][0], "answer": "Asia"},
              {"index": 2, "question": INFOVQA[1][0], "answer": "['1.5 million']"}],
             [{"questionId": i, "question": q, "answers": a if isinstance(a, list) else [a]} for i, (q, a, _, _) in enumerate(INFOVQA, 1)],
             [p for _, _, p, _ in INFOVQA], 100 * (1 + 11 / 12) / 2, split="validation"),
        Case("chartqa",
             [{"index": i, "question": q, "answer": a} for i, (q, a, _, _) in enumerate(CHARTQA, 1)],
             # HuggingFaceM4/ChartQA: query, label (a list); no index column: rows are named by position
             [{"query": q, "label": [a], "human_or_machine": 0} for q, a, _, _ in CHARTQA],
             [p for _, _, p, _ in CHARTQA], 100 * 5 / 7, parquet_index=list(range(len(CHARTQA)))),
        Case("ai2d",
             [{"index": i, "question": q, **_tsv_choice(o), "answer": "ABCD"[a]} for i, (q, o, a, _, _) in enumerate(AI2D, 1)],
             # lmms-lab/ai2d: options as a list, the answer as the option's position
             [{"question": q, "options": o, "answer": str(a)} for q, o, a, _, _ in AI2D],
             [p for _, _, _, p, _ in AI2D], 75.0, parquet_index=list(range(len(AI2D)))),
        Case("mmmu",
             [{"index": "validation_Art_1", "question": "<image 1> Which style?", "A": "x", "B": "y", "C": "z", "answer": "C"},
              {"index": "validation_Math_2", "question": "<image 1> What is 4 times 6?", "answer": "24"},
              {"index": "validation_Art_3", "question": "<image 1> Which era?", "A": "old", "B": "new", "answer": "A"}],
             [{"id": "validation_Art_1", "question": "<image 1> Which style?", "options": "['x', 'y', 'z']", "answer": "C",
               "question_type": "multiple-choice"},
              {"id": "validation_Math_2", "question": "<image 1> What is 4 times 6?", "options": "[]", "answer": "24",
               "question_type": "open"},
              {"id": "validation_Art_3", "question": "<image 1> Which era?", "options": "['old', 'new']", "answer": "A",
               "question_type": "multiple-choice"}],
             ["C.", "The answer is 24.", "I don't know"], 100 * 2 / 3, image_column="image_1", split="validation"),
        Case("realworldqa",
             [{"index": 1, "question": "Which is closer?", "A": "car", "B": "tree", "C": "house", "answer": "B"},
              {"index": 2, "question": "How many lanes?\nPlease answer directly with a single word or number.", "answer": "3"},
              {"index": 3, "question": "Which is red?", "A": "car", "B": "tree", "C": "house", "answer": "A"}],
             # xai-org/RealworldQA: the options are written into the question
             [{"question": "Which is closer?\nA. car\nB. tree\nC. house\nPlease answer directly with only the letter "
                           "of the correct option and nothing else.", "answer": "B"},
              {"question": "How many lanes?\nPlease answer directly with a single word or number.", "answer": "3"},
              {"question": "Which is red?\nA. car\nB. tree\nC. house\nPlease answer directly with only the letter "
                           "of the correct option and nothing else.", "answer": "A"}],
             ["B", "three", "(C)"], 100 * 2 / 3, parquet_index=[0, 1, 2]),
        Case("mathvista",
             [{"index": 1, "question": "Hint: Please answer the question and provide the correct option letter.\n"
                                       "Question: What fraction of the shape is blue?\nChoices:\n(A) 3/11\n(B) 8/11",
               "choices": "['3/11', '8/11', '6/11', '3/5']", "answer": "8/11", "answer_option": "B",
               "question_type": "multi_choice", "answer_type": "text", "precision": ""},
              {"index": 2, "question": "What is the fraction of females facing the camera?", "answer": "1.5",
               "question_type": "free_form", "answer_type": "float", "precision": "1"},
              {"index": 3, "question": "Which number is missing?", "answer": "14", "question_type": "free_form",
               "answer_type": "integer", "precision": ""},
              {"index": 4, "question": "How many sides?", "answer": "7", "question_type": "free_form",
               "answer_type": "integer", "precision": ""}],
             [{"pid": "1", "question": "What fraction of the shape is blue?", "choices": ["3/11", "8/11", "6/11", "3/5"],
               "answer": "8/11", "question_type": "multi_choice", "answer_type": "text", "precision": None,
               "image": "images/1.jpg"},
              {"pid": "2", "question": "What is the fraction of females facing the camera?", "choices": None,
               "answer": "1.5", "question_type": "free_form", "answer_type": "float", "precision": 1.0,
               "image": "images/2.jpg"},
              {"pid": "3", "question": "Which number is missing?", "choices": None, "answer": "14",
               "question_type": "free_form", "answer_type": "integer", "precision": None, "image": "images/3.jpg"},
              {"pid": "4", "question": "How many sides?", "choices": None, "answer": "7",
               "question_type": "free_form", "answer_type": "integer", "precision": None, "image": "images/4.jpg"}],
             ["The correct answer is (B) 8/11.", "1.50", "The number missing is 14", "6"], 75.0,
             image_column="decoded_image", split="testmini"),
        Case("countbenchqa",
             [{"index": i, "question": q, "answer": n} for i, (q, n) in enumerate(
                 [("How many dogs are there?", 3), ("How many cats are there?", 2), ("How many birds are there?", 2),
                  ("How many dogs are there?", 4)], 1)],
             [{"question": q, "number": n, "text": "..."} for q, n in
              [("How many dogs are there?", 3), ("How many cats are there?", 2), ("How many birds are there?", 2),
               ("How many dogs are there?", 4)]],
             # exact: 3, points-only with 4 points; within one also: "a total of 3" for 2; "none" (0) for 2 is neither
             [COUNT_3, "a total of 3", "none", POINTS_4], 50.0, within_one=75.0,
             parquet_index=[0, 1, 2, 3]),
        Case("pixmo-count",
             [{"index": 1, "question": "How many cats are there?", "answer": 5},
              {"index": 2, "question": "How many cups are there?", "answer": 2}],
             [{"image_url": "https://example.org/1.jpg", "label": "cats", "count": 5},
              {"image_url": "https://example.org/2.jpg", "label": "cups", "count": 2}],
             ["There are five cats.", "There are none."], 50.0, within_one=50.0, parquet_index=[0, 1]),
    ]  # fmt: skip


def write_tsv(case: Case, folder: Path) -> Path:
    """VLMEvalKit's layout; the second row onwards shares the first row's image by its index."""
    path = folder / f"{case.name}.tsv"
    columns = ["index", "image"] + sorted({k for row in case.tsv for k in row} - {"index"}, key=_column_order)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter="\t")
        writer.writerow(columns)
        for n, row in enumerate(case.tsv):
            image = base64.b64encode(png()).decode() if n == 0 else str(case.tsv[0]["index"])
            writer.writerow([image if c == "image" else row.get(c, "") for c in columns])
    return path


def _column_order(name: str):
    return (len(name) != 1, name)  # option letters first, as VLMEvalKit's files have them


def write_parquet(case: Case, folder: Path) -> Path:
    """A `datasets` snapshot's layout: <folder>/<name>/data/<split>-00000-of-00001.parquet, and a
    train split beside it (which the benchmark must not read)."""
    root = folder / case.name
    (root / "data").mkdir(parents=True)
    rows = [
        {**row, case.image_column: {"bytes": png(), "path": f"{n}.png"}} for n, row in enumerate(case.parquet)
    ]
    pq.write_table(pa.Table.from_pylist(rows), root / "data" / f"{case.split}-00000-of-00001.parquet")
    pq.write_table(pa.Table.from_pylist(rows[:1]), root / "data" / "train-00000-of-00001.parquet")
    return root


def write_predictions(case: Case, path: Path, indexes: list) -> Path:
    lines = [json.dumps({"index": i, "prediction": p}) for i, p in zip(indexes, case.predictions)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def tsv_indexes(case: Case) -> list:
    return [row["index"] for row in case.tsv]


def parquet_indexes(case: Case) -> list:
    return case.parquet_index or tsv_indexes(case)
