"""The academic benchmarks (training/benchmarks): the official metrics against numbers worked out by
hand from their definitions, each benchmark read from both formats (VLMEvalKit TSV and a Hugging
Face parquet folder) and scored to the same hand-computed number, Molmo's prompts, and the
sentences a wrong file gets."""

import json

import pytest

from tests.training import benchmark_files as files
from training.benchmarks.formats import BenchmarkDataError, read_table
from training.benchmarks.metrics import (
    anls,
    choice_of,
    count_correct,
    count_of,
    free_form_correct,
    relaxed_correct,
    vqa_accuracy,
)
from training.benchmarks.prompts import items
from training.benchmarks.registry import BENCHMARKS, benchmark
from training.benchmarks.runner import write_result, write_summary
from training.benchmarks.scoring import match_predictions, read_predictions, score
from training.benchmarks.vqa_text import normalise_answer

CASES = {case.name: case for case in files.cases()}


def test_the_registry_holds_the_eleven_benchmarks_of_molmos_average():
    assert list(BENCHMARKS) == ["ai2d", "chartqa", "vqav2", "docvqa", "infovqa", "textvqa", "realworldqa",
                                "mmmu", "mathvista", "countbenchqa", "pixmo-count"]  # fmt: skip
    assert set(CASES) == set(BENCHMARKS)
    assert benchmark("VQA_v2") is benchmark("vqa2") is BENCHMARKS["vqav2"]
    assert benchmark("PixMo-Count").name == "pixmo-count" and benchmark("ChartQA").style == "chart_qa"
    with pytest.raises(ValueError, match="unknown benchmark 'okvqa'; the known ones: ai2d, chartqa"):
        benchmark("okvqa")


@pytest.mark.parametrize(
    ("said", "normalised"),
    [("Two", "2"), ("the dog", "dog"), ("don't", "don't"), ("dont", "don't"), ("A Dog.", "dog"),
     ("coca-cola", "coca cola"), ("yes, sir", "yes sir"), ("3.5", "3.5"), ("1,000", "1000"), ("none", "0"),
     ("  Ten\tcats \n", "10 cats"), ("what's up?", "what's up")],
)  # fmt: skip
def test_the_official_vqa_normalisation(said, normalised):
    assert normalise_answer(said) == normalised


def test_vqa_accuracy_averages_the_ten_leave_one_out_subsets():
    others = ["cat"] * 10
    # k annotators agree: k subsets see k-1 matches, 10-k see k; each min(matches / 3, 1)
    assert vqa_accuracy("dog", ["dog"] + others[1:]) == pytest.approx((1 * 0 + 9 * 1 / 3) / 10)  # 0.3
    assert vqa_accuracy("dog", ["dog"] * 2 + others[2:]) == pytest.approx((2 * 1 / 3 + 8 * 2 / 3) / 10)  # 0.6
    assert vqa_accuracy("dog", ["dog"] * 3 + others[3:]) == pytest.approx((3 * 2 / 3 + 7 * 1) / 10)  # 0.9
    assert vqa_accuracy("dog", ["dog"] * 4 + others[4:]) == 1.0
    assert vqa_accuracy("Two", ["2", "two"] + others[2:]) == pytest.approx(0.6)  # "Two" = "2" = "two"
    assert vqa_accuracy("bird", others) == 0.0
    assert vqa_accuracy("the dog", ["dog"]) == 1.0  # one answer only: exact normalised match


def test_anls_around_the_threshold():
    truth = "a" * 100
    assert anls("a" * 51 + "b" * 49, [truth]) == pytest.approx(0.51)  # distance 0.49: 1 - 0.49
    assert anls("a" * 50 + "b" * 50, [truth]) == 0.0  # distance 0.50 is not below 0.5
    assert anls("a" * 49 + "b" * 51, [truth]) == 0.0
    assert anls("Dear Dr. Lobo", ["dear dr. lobo"]) == 1.0  # case-insensitive
    assert anls("12/15/89", ["12/15/88"]) == pytest.approx(1 - 1 / 8)
    assert anls("Denver", ["Denver Broncos", "Denver"]) == 1.0  # the best accepted answer
    assert anls("kitten", ["sitting"]) == pytest.approx(1 - 3 / 7)  # Levenshtein 3 over 7 characters


@pytest.mark.parametrize(
    ("prediction", "target", "correct"),
    [("105", "100", True), ("95", "100", True), ("105.01", "100", False), ("94.99", "100", False),
     ("42", "40", True), ("42.01", "40", False), ("-10.4", "-10", True), ("0", "0", True), ("0.01", "0", False),
     ("45%", "45", True), ("45", "45%", True), ("0.45", "45%", True), ("47%", "45%", True), ("48%", "45%", False),
     ("1,234", "1234", True), ("1234", "1,234", True), ("1,300", "1,234", False),
     ("Yes", "yes", True), ("Asia.", "Asia", False), ("twelve", "12", False)],
)  # fmt: skip
def test_relaxed_accuracy_five_percent_boundaries_percent_and_commas(prediction, target, correct):
    assert relaxed_correct(prediction, target) is correct


OPTIONS = [("A", "cat"), ("B", "dog"), ("C", "bird"), ("D", "horse and cart")]


@pytest.mark.parametrize(
    ("prediction", "chosen"),
    [("B", "B"), ("b", "B"), ("(B)", "B"), ("B.", "B"), ("The answer is (B).", "B"), ("The answer is B", "B"),
     ("Answer: C", "C"), ("answer: (d)", None), ("C. bird", "C"), ("I pick (D) here", "D"), ("dog", "B"),
     ("It is a horse and cart.", "D"), ("The answer is A cat", "A"), ("A cat or a dog", None), ("E", None),
     ("none of them", None), ("", None)],
)  # fmt: skip
def test_option_letters_and_texts_in_free_text(prediction, chosen):
    assert choice_of(prediction, OPTIONS) == chosen


@pytest.mark.parametrize(
    ("answer", "count"),
    [("a total of 3", 3), ("Counting the <points x1=\"1.0\" y1=\"2.0\" alt=\"cat\">cat</points> shows a total of 7.", 7),
     ("There are none.", 0), ("none", 0), ("Two", 2), ("I see 4 dogs.", 4), (files.POINTS_4, 4),
     ('<point x="1.0" y="2.0" alt="cat">cat</point>', 1), ("no idea", 0), ("", None), ("many", None)],
)  # fmt: skip
def test_counting_phrases(answer, count):
    assert count_of(answer) == count


def test_counting_exact_and_within_one():
    assert count_correct("a total of 3", 3) == (1.0, 1.0)
    assert count_correct("a total of 4", 3) == (0.0, 1.0)
    assert count_correct("There are none.", 2) == (0.0, 0.0)
    assert count_correct("many", 1) == (0.0, 0.0)


def test_free_form_answers():
    assert free_form_correct("The answer is 1.50", "1.5", precision=1) == 1.0
    assert free_form_correct("1.54", "1.5", precision=1) == 1.0  # rounded to the stated precision
    assert free_form_correct("3.2", "3") == 0.0  # no precision: equal numbers only
    assert free_form_correct("three", "3") == 1.0  # number words, by the VQA normalisation
    assert free_form_correct("The Eiffel tower", "eiffel tower") == 1.0


@pytest.mark.parametrize("layout", ["tsv", "parquet"])
@pytest.mark.parametrize("name", list(CASES))
def test_each_benchmark_scores_its_hand_computed_number_from_both_formats(tmp_path, name, layout):
    case = CASES[name]
    bench = benchmark(name)
    path = files.write_tsv(case, tmp_path) if layout == "tsv" else files.write_parquet(case, tmp_path)
    indexes = files.tsv_indexes(case) if layout == "tsv" else files.parquet_indexes(case)
    table = read_table(path, bench.split)  # the parquet folder also holds a train split, not read
    found = items(bench, table)
    assert len(found) == len(case.predictions)
    predictions = read_predictions(files.write_predictions(case, tmp_path / "preds.jsonl", indexes))
    result = score(bench, found, match_predictions(found, predictions)[0])
    assert result["score"] == pytest.approx(case.score) and result["n"] == len(found)
    if case.within_one is not None:
        assert result["within_one"] == pytest.approx(case.within_one)
    assert all(item.image is not None for item in found)


def test_prompts_carry_molmos_style_prefixes_and_layout(tmp_path):
    def prompts(name, layout="tsv"):
        case = CASES[name]
        path = files.write_tsv(case, tmp_path) if layout == "tsv" else files.write_parquet(case, tmp_path)
        return [item.prompt for item in items(benchmark(name), read_table(path, benchmark(name).split))]

    assert prompts("vqav2")[0] == "vqa2: How many dogs?"
    assert prompts("chartqa", "parquet")[0] == "chart_qa: Value of A?"
    assert prompts("docvqa")[0].startswith("doc_qa: ") and prompts("infovqa")[0].startswith("info_qa: ")
    assert prompts("textvqa")[0] == "text_vqa: What does the sign say?"
    ai2d = prompts("ai2d")
    assert ai2d[0] == "ai2_diagram: Which part absorbs water?\nA: leaf\nB: root\nC: stem\nD: flower\n"
    assert ai2d[3] == "ai2_diagram_no_letter: Which label marks the roots?\nC\nA\nD\nB\n"
    mathvista = prompts("mathvista")  # the hint and the written choices are left out of the question
    assert (
        mathvista[0] == "a_okvqa_mc: What fraction of the shape is blue?\nA: 3/11\nB: 8/11\nC: 6/11\nD: 3/5\n"
    )
    assert mathvista[1] == "vqa2: What is the fraction of females facing the camera?"
    assert prompts("mmmu")[1] == "vqa2: <image 1> What is 4 times 6?"
    assert prompts("realworldqa", "parquet")[0].startswith("a_okvqa_mc: Which is closer?\nA. car\n")
    assert prompts("countbenchqa")[0] == "point_count: How many dogs are there?"
    assert prompts("pixmo-count", "parquet") == [
        "point_count: How many cats are there?",
        "point_count: How many cups are there?",
    ]


def test_a_missing_or_wrong_file_is_one_sentence_naming_what_to_put_there(tmp_path):
    with pytest.raises(BenchmarkDataError, match="does not exist; pass the benchmark's VLMEvalKit TSV"):
        read_table(tmp_path / "ChartQA_TEST.tsv")
    (tmp_path / "notes.txt").write_text("hello\n")
    with pytest.raises(BenchmarkDataError, match=r"neither a \.tsv nor a \.parquet file"):
        read_table(tmp_path / "notes.txt")
    (tmp_path / "one.tsv").write_text("just one column\nvalue\n")
    with pytest.raises(BenchmarkDataError, match="not a tab-separated file with a header row"):
        read_table(tmp_path / "one.tsv")
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    with pytest.raises(BenchmarkDataError, match="is not a readable parquet file"):
        read_table(tmp_path / "bad.parquet")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BenchmarkDataError, match="holds no .parquet files"):
        read_table(tmp_path / "empty")


def test_a_file_without_the_needed_columns_names_them(tmp_path):
    (tmp_path / "q.tsv").write_text("index\timage\tquestion\n1\txx\tWhat?\n")
    with pytest.raises(BenchmarkDataError, match="lacks the column.s. answers or answer or multiple_choice_answer that vqav2 needs"):  # fmt: skip
        items(benchmark("vqav2"), read_table(tmp_path / "q.tsv"))
    (tmp_path / "mc.tsv").write_text("index\tquestion\tA\tB\tanswer\n1\tWhich?\tx\ty\tE\n")
    with pytest.raises(
        BenchmarkDataError, match=r"row 1 \(index 1\): the answer 'E' is none of the 2 options"
    ):
        items(benchmark("ai2d"), read_table(tmp_path / "mc.tsv"))


def test_a_folder_of_several_splits_reads_the_published_one_or_the_one_named(tmp_path):
    case = CASES["chartqa"]
    folder = files.write_parquet(case, tmp_path)
    assert len(read_table(folder, "test").rows) == len(case.parquet)
    assert len(read_table(folder, "train").rows) == 1
    with pytest.raises(BenchmarkDataError, match="holds the splits test, train; it has no split 'val'; choose one with --split"):  # fmt: skip
        read_table(folder, "val")


def test_predictions_and_data_must_belong_together(tmp_path):
    case = CASES["chartqa"]
    found = items(benchmark("chartqa"), read_table(files.write_tsv(case, tmp_path)))
    some = {"1": "105", "2": "90"}  # right (5 % off), wrong (10 % off)
    with pytest.raises(BenchmarkDataError, match="5 of 7 data rows have no prediction .index 3, 4, 5, 6, 7.; pass --missing-as-wrong"):  # fmt: skip
        match_predictions(found, some)
    predictions, missing = match_predictions(found, some, missing_as_wrong=True)
    assert missing == ["3", "4", "5", "6", "7"]
    assert score(benchmark("chartqa"), found, predictions)["score"] == pytest.approx(100 * 1 / 7)
    with pytest.raises(
        BenchmarkDataError, match=r"the predictions name 1 index\(es\) the data does not have \(index 99\)"
    ):
        match_predictions(found, {**some, "99": "x"})
    (tmp_path / "p.jsonl").write_text('{"index": 1, "prediction": "a"}\n{"index": 1.0, "prediction": "b"}\n')
    with pytest.raises(BenchmarkDataError, match="line 2: the index 1 has a prediction already"):
        read_predictions(tmp_path / "p.jsonl")
    (tmp_path / "p.jsonl").write_text('{"index": 1, "answer": "a"}\n')
    with pytest.raises(BenchmarkDataError, match='line 1 is not {"index"'):
        read_predictions(tmp_path / "p.jsonl")


def _result(name: str, value: float, **extra) -> dict:
    bench = BENCHMARKS[name]
    return {"benchmark": name, "title": bench.title, "metric": bench.metric, "score": value, "n": 10,
            "predictions": [], **extra}  # fmt: skip


def test_the_summary_averages_the_benchmarks_scored_so_far(tmp_path):
    write_result(tmp_path, _result("chartqa", 80.0))
    write_result(tmp_path, _result("docvqa", 70.0))
    write_result(tmp_path, _result("pixmo-count", 60.0, within_one=90.0, n=4, limit=4))
    (tmp_path / "textvqa.json").write_text("{not json")
    summary = write_summary(tmp_path)
    assert summary["average"] == pytest.approx(70.0) and summary["of"] == "3 of 11 benchmarks"
    assert json.loads((tmp_path / "summary.json").read_text())["average"] == pytest.approx(70.0)
    table = (tmp_path / "summary.md").read_text()
    assert "| ChartQA | relaxed accuracy | 80.0 | 10 |" in table
    assert "| PixMo-Count | counting accuracy (within one 90.0) | 60.0 | 4 (--limit 4) |" in table
    assert "| **average** (3 of 11 benchmarks) | | **70.0** | |" in table


def test_the_summary_leaves_out_a_release_evaluation_of_the_same_name(tmp_path):
    write_result(tmp_path, _result("chartqa", 80.0))
    # `pixmo eval --data RELEASE` writes RUN/eval/DATASET.json; a PixMo-Count release is pixmo-count
    (tmp_path / "pixmo-count.json").write_text(json.dumps({"dataset": "pixmo-count", "count_exact": 0.5}))
    summary = write_summary(tmp_path)
    assert [row["benchmark"] for row in summary["benchmarks"]] == ["chartqa"] and summary["average"] == 80.0
