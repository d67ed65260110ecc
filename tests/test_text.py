"""masktrainer.text: the "did you mean" hints, one-line choice errors and percentages."""

from masktrainer.text import choice_error, closest_choice, did_you_mean, pct


def test_closest_choice_prefers_the_same_letters_in_another_case_then_spelling():
    assert closest_choice("adam", ["Adam", "SGD"]) == "Adam"
    assert closest_choice("sgdd", ["adam", "sgd"]) == "sgd"
    assert closest_choice("xyz", ["adam", "sgd"]) is None
    assert closest_choice(3, ["adam"]) is None and closest_choice("", ["adam"]) is None


def test_the_hint_and_the_one_line_error():
    assert did_you_mean("Cosine", ["constant", "cosine"]) == "did you mean 'cosine'?"
    assert did_you_mean("zzz", ["constant", "cosine"]) == ""
    message = choice_error("--optimizer", "adm", ["adam", "sgd"], " for EdgePopup")
    assert message == "--optimizer='adm' is not one of: adam, sgd for EdgePopup; " \
                      "did you mean 'adam'?"
    assert "\n" not in message
    assert choice_error("--optimizer", "zzz", ["adam"]) == "--optimizer='zzz' is not one of: adam"


def test_pct_has_two_decimals():
    assert pct(0.1234) == "12.34%"
    assert pct(1.0) == "100.00%"
