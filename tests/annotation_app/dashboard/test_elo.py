"""Bradley–Terry Elo: recovers known strengths, treats ties and don't-know as stated; `pixmo elo`."""

import numpy as np
import pytest

from annotation_app.analytics.elo import Judgment, elo_leaderboard, judgment_check
from pixmo_cli.main import main

TRUE_ELO = {"alpha": 1150, "bravo": 1080, "charlie": 1010, "delta": 940, "echo": 870}


def synthetic_judgments(n: int, seed: int = 7, tie_share: float = 0.1, dont_know_share: float = 0.05):
    """Judgments drawn from a Bradley–Terry model whose strengths are TRUE_ELO."""
    rng = np.random.default_rng(seed)
    names = list(TRUE_ELO)
    out = []
    for _ in range(n):
        i, j = rng.choice(len(names), size=2, replace=False)
        a, b = names[i], names[j]
        p_a = 1 / (1 + 10 ** ((TRUE_ELO[b] - TRUE_ELO[a]) / 400))
        draw = rng.random()
        if draw < dont_know_share:
            winner = "dont_know"
        elif draw < dont_know_share + tie_share:
            winner = "tie" if rng.random() < 0.5 else "tie_bad"
        else:
            winner = "a" if rng.random() < p_a else "b"
        out.append(Judgment(a, b, winner))
    return out


def test_recovers_the_ranking_and_spacing_of_known_strengths():
    board = elo_leaderboard(judgments=synthetic_judgments(4000), bootstrap=100)
    assert [r.name for r in board.ratings] == list(TRUE_ELO)
    centre = np.mean(list(TRUE_ELO.values()))
    for rating in board.ratings:
        # Ties shrink gaps a little; every estimate stays within 30 Elo of the truth (centred at 1000).
        assert abs(rating.elo - (TRUE_ELO[rating.name] - centre + 1000)) < 30, rating
        assert rating.low < rating.elo < rating.high
        assert rating.low <= TRUE_ELO[rating.name] - centre + 1000 + 15
    assert abs(np.mean([r.elo for r in board.ratings]) - 1000) < 1e-6


def test_intervals_narrow_with_more_judgments():
    few = elo_leaderboard(judgments=synthetic_judgments(300), bootstrap=100)
    many = elo_leaderboard(judgments=synthetic_judgments(3000), bootstrap=100)
    width = lambda board: np.mean([r.high - r.low for r in board.ratings])
    assert width(many) < width(few) / 2


def test_ties_are_half_wins_and_dont_know_is_dropped():
    judgments = [Judgment("x", "y", "tie"), Judgment("x", "y", "tie_bad"), Judgment("y", "x", "dont_know")]
    board = elo_leaderboard(judgments=judgments, bootstrap=0)
    assert board.judgments_used == 2 and board.judgments_dropped == 1
    by_name = {r.name: r for r in board.ratings}
    assert by_name["x"].score == by_name["y"].score == 1.0
    assert by_name["x"].games == by_name["y"].games == 2
    assert by_name["x"].elo == pytest.approx(1000) and by_name["y"].elo == pytest.approx(1000)


def test_a_model_that_never_lost_gets_a_finite_rating():
    board = elo_leaderboard(judgments=[Judgment("x", "y", "a")] * 5, bootstrap=20)
    top, bottom = board.ratings
    assert top.name == "x" and np.isfinite(top.elo) and top.elo > 1100 and bottom.elo < 900


@pytest.mark.parametrize(("a", "b", "winner", "message"), [
    ("x", "x", "a", "compared with itself"), ("x", "y", "maybe", "is not one of"), ("", "y", "a", "names no model"),
])
def test_bad_judgments_are_refused(a, b, winner, message):
    with pytest.raises(ValueError, match=message):
        judgment_check(model_a=a, model_b=b, winner=winner)


def test_cli_prints_one_line_per_model_best_first(tmp_path, capsys):
    path = tmp_path / "judgments.csv"
    rows = ["model_a,model_b,winner"] + [f"{j.model_a},{j.model_b},{j.winner}" for j in synthetic_judgments(1500)]
    path.write_text("\n".join(rows) + "\n")
    assert main(["elo", str(path), "--bootstrap", "50"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[1] for line in lines] == list(TRUE_ELO)
    rank, name, elo, low, high, games, word = lines[0].replace("[", " ").replace(",", " ").replace("]", " ").split()
    assert (rank, name, word) == ("1", "alpha", "games")
    assert float(low) < float(elo) < float(high) and int(games) > 100


@pytest.mark.parametrize(("content", "message"), [
    ("model_a,model_b\nx,y\n", "lacks the column(s) winner"),
    ("model_a,model_b,winner\nx,y,maybe\n", "line 2: winner 'maybe'"),
    ("model_a,model_b,winner\nx,y,dont_know\n", "no judgment other than dont_know"),
])
def test_cli_bad_csv_exits_2_with_a_sentence(tmp_path, capsys, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    assert main(["elo", str(path)]) == 2
    assert message in capsys.readouterr().err


def test_cli_missing_file_exits_2(tmp_path, capsys):
    assert main(["elo", str(tmp_path / "none.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err
