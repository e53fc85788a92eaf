"""Unit specification of the portfolio VaR model's hot paths (selection quantile, flat book)."""

from __future__ import annotations

import numpy as np

from operators.risk.var import ReturnModel, higher_quantile


def test_higher_quantile_equals_numpy_higher_method_for_every_size_and_confidence() -> None:
    rng = np.random.default_rng(7)
    for n in range(1, 400):
        losses = rng.standard_t(3, size=n)
        for q in (0.0, 0.5, 0.9, 0.95, 0.975, 0.99, 0.995, 1.0):
            assert higher_quantile(losses, q) == float(np.quantile(losses, q, method="higher")), (n, q)


def test_var_of_a_flat_book_is_zero_without_touching_the_history() -> None:
    model = ReturnModel(("A", "B"), 0.94, 10, 2, 0.01)
    for bucket, (a, b) in enumerate(((100.0, 50.0), (101.0, 50.5), (99.0, 50.0), (101.0, 49.0))):
        model.observe(bucket, {"A": a, "B": b})
    assert model.var([0.0, 0.0], 0.99) == 0.0
    assert model.var([1000.0, 0.0], 0.99) > 0.0
