"""course.feedback: layered messages (type, shape, values, hint) and compare()."""
from __future__ import annotations

import numpy as np
import pytest

from course.feedback import FeedbackError, Hint, check, compare


def message(got, expected, **kw) -> str:
    with pytest.raises(FeedbackError) as err:
        check("f(x)", got, expected, **kw)
    return str(err.value)


def test_right_answers_pass_quietly():
    check("f(x)", 0.82054, 0.8205, atol=1e-4)
    check("f(x)", np.array([[1.0], [2.0]]), [[1.0], [2.0]])
    check("f(x)", [1, 2], np.array([1.0, 2.0]))            # a list is fine
    check("f(x)", np.float32(0.5), 0.5)
    check("shape", (2, 8), (2, 8))
    check("shape", [2, 8], (2, 8))                          # a list of ints counts as a shape
    check("perceptron", False, 0)                           # a bool is a 0/1 answer


def test_feedback_error_is_an_assertion_error():
    """nbgrader (and pytest) count an AssertionError as a failed test."""
    assert issubclass(FeedbackError, AssertionError)


def test_none_means_missing_return():
    text = message(None, 1.0)
    assert "gave None" in text and "return" in text


def test_type_comes_first():
    text = message("0.5", 0.5)
    assert "should be a number or a NumPy array" in text and "str" in text


def test_shape_before_values():
    text = message(np.zeros(3), np.zeros((3, 1)))
    assert "wrong shape: expected shape (3, 1), got shape (3,)" in text
    assert "wrong value" not in text


def test_values_show_expected_got_and_where():
    text = message(np.array([[1.0, 2.0], [3.0, 5.0]]), np.array([[1.0, 2.0], [3.0, 4.0]]))
    lines = text.splitlines()
    assert lines[0] == "f(x) has the wrong value."
    assert lines[1].strip().startswith("expected:") and lines[3].strip().startswith("got:")
    assert "1 of 4 entries differ; the first at index (1, 1): expected 4, got 5." in text
    assert "largest difference 1" in text


def test_scalar_message_and_tolerance():
    text = message(1.52, 0.8205, atol=1e-4)
    assert "expected: 0.8205" in text and "got:      1.52" in text
    assert "allowed: 0.0001" in text


def test_nan_is_named():
    assert "contains NaN" in message(np.array([np.nan, 1.0]), [0.5, 1.0])


def test_shapes_compare_exactly():
    text = message((8, 2), (2, 8))
    assert "expected: (2, 8)" in text and "got:      (8, 2)" in text
    assert "should be a shape" in message(np.zeros((2, 8)), (2, 8))


def test_hint_added_only_when_it_matches():
    hints = [Hint(lambda got: abs(got - 1.52) < 1e-3, "you returned z: apply the sigmoid."),
             Hint(lambda got: got < 0, "probabilities are never negative.")]
    text = message(1.52, 0.8205, hints=hints)
    assert text.rstrip().endswith("Hint: you returned z: apply the sigmoid.")
    assert "never negative" not in text


def test_hint_that_cannot_judge_is_skipped():
    """A hint predicate that raises (wrong type, shape) does not hide the real feedback."""
    text = message("text", 0.5, hints=[Hint(lambda got: got + 1 > 0, "never shown")])
    assert "never shown" not in text and "should be a number" in text


def test_torch_tensors_are_numbers():
    import torch
    check("f(x)", torch.tensor([0.5, 1.0]), [0.5, 1.0])


def test_compare_prints_both(capsys):
    assert compare("sigmoid(0)", 0.5, 0.5)
    out = capsys.readouterr().out
    assert "yours:    0.5" in out and "expected: 0.5" in out and "exact" in out
    assert compare("z", 0.50001, 0.5, atol=1e-3)
    assert "approximately" in capsys.readouterr().out
    assert not compare("z", None, 0.5)
    assert "not yet" in capsys.readouterr().out


def test_multiline_arrays_line_up(capsys):
    compare("A @ B", np.array([[14, 4, 18], [24, 6, 12]]), [[14, 4, 18], [24, 6, 12]])
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].index("[[") == lines[2].index("[")  - 1


def test_check_dtype_names_both_types_and_hints():
    from course.feedback import check_dtype

    check_dtype("x", np.zeros(3, dtype=np.float32), "float32")
    with pytest.raises(FeedbackError) as err:
        check_dtype("x", np.zeros(3), "float32", hints=[Hint(lambda g: g.dtype == np.float64, "use astype")])
    text = str(err.value)
    assert "expected dtype: float32" in text and "got dtype:      float64" in text and "Hint: use astype" in text
    with pytest.raises(FeedbackError, match="return"):
        check_dtype("x", None, "float32")
    with pytest.raises(FeedbackError, match="NumPy array of dtype float32, but it is a list"):
        check_dtype("x", [1.0], "float32")


def test_check_without_revealing_the_answer():
    """reveal=False: the feedback says which dimension or entries are off, never the expected value."""
    want = np.array([[14, 4, 18], [24, 6, 12]])
    with pytest.raises(FeedbackError) as err:
        check("AB", np.array([[11, 4, 18], [24, 6, 13]]), want, reveal=False)
    text = str(err.value)
    assert "2 of 6 entries are wrong" in text and "(0, 0)" in text and "(1, 2)" in text
    assert "14" not in text and "12" not in text.replace("[24,  6, 13]", "")
    with pytest.raises(FeedbackError) as err:
        check("AB", want.T, want, reveal=False)
    assert "dimensions 0, 1 are off" in str(err.value) and "(2, 3)" not in str(err.value)
    with pytest.raises(FeedbackError) as err:
        check("W1_shape", (8, 2), (2, 8), reveal=False)
    assert "dimensions 0, 1 are off" in str(err.value) and "(2, 8)" not in str(err.value)
    with pytest.raises(FeedbackError) as err:
        check("W3_shape", (8, 2), (8, 1), reveal=False,
              hints=[Hint(lambda got: got[1] != 1, "one output unit: the last layer has 1 column.")])
    assert "dimension 1 is off" in str(err.value) and "Hint: one output unit" in str(err.value)
    with pytest.raises(FeedbackError) as err:
        check("W2_shape", (8, 8, 1), (8, 8), reveal=False)
    assert "2 dimension(s), not 3" in str(err.value)
    check("AB", want.copy(), want, reveal=False)          # a right answer passes quietly
