import pytest
import torch

from utils.checks import check_against


def square(x):
    return x * x


def test_agreement_prints_the_cases(capsys):
    check_against(lambda x: x ** 2, square, {"zero": (0,), "negative": (-3,)}, name="f")
    assert "f: agrees with the reference on 2 cases (zero, negative)" in capsys.readouterr().out


def test_mismatch_names_the_case_and_both_values():
    with pytest.raises(AssertionError, match=r"wrong on case 'negative': expected 9, got -9"):
        check_against(lambda x: x * abs(x), square, {"positive": (3,), "negative": (-3,)})


def test_tensor_shape_mismatch_fails():
    with pytest.raises(AssertionError, match="shape"):
        check_against(lambda t: t.sum(0), lambda t: t.sum(), {"matrix": (torch.ones(2, 2),)})


def test_crash_is_reported_as_a_finding_and_stubs_pass_through():
    with pytest.raises(AssertionError, match="crashed on case 'empty'.*ZeroDivisionError"):
        check_against(lambda xs: sum(xs) / len(xs), lambda xs: 0.0, {"empty": ([],)})

    def stub(x):
        raise NotImplementedError("TODO")
    with pytest.raises(NotImplementedError):
        check_against(stub, square, {"one": (1,)})


def test_dicts_compare_key_by_key():
    check_against(lambda: {1: 0.5, 5: 1.0}, lambda: {1: 0.5, 5: 1.0}, {"no args": ()})
    with pytest.raises(AssertionError):
        check_against(lambda: {1: 0.5}, lambda: {1: 0.5, 5: 1.0}, {"no args": ()})


def test_largest_tensor_sees_intermediates():
    from utils.checks import largest_tensor
    x = torch.ones(5, 3)
    assert largest_tensor(lambda a: (a @ a.T).sum(), x) == 25
    assert largest_tensor(lambda a: sum((r @ a.T).sum() for r in a.split(1)), x) == 15
