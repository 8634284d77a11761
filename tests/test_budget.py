"""The budget rule: a lab over its budget is within it only when the labs it borrows from leave enough unused."""
from utils.course import budget


def test_a_lab_over_budget_is_covered_only_by_its_lenders_unused_time(monkeypatch):
    monkeypatch.setattr(budget, "BORROWS", {"03": ["02"]})
    assert budget.within_budget({"02": 20, "03": 170, "04": 100}, 150) == {"02": True, "03": True, "04": True}
    assert budget.within_budget({"02": 140, "03": 170}, 150)["03"] is False  # 310 > 300
    assert budget.within_budget({"03": 170, "04": 10}, 150)["03"] is False  # 04 is not its lender
    assert budget.within_budget({"03": 170}, 150)["03"] is False  # its lender was not measured in this run


def test_every_borrowing_names_real_labs():
    labs = {p.stem for p in (budget.ROOT / "solutions").glob("*.ipynb")}
    assert all(lab in labs and set(lenders) <= labs for lab, lenders in budget.BORROWS.items())
