"""The microstructure specialist: P(the mid moves up) at quote time, from order flow and the quote.

- :mod:`models.micro.dataset`: quote-time rows from the live flow's feature groups
  (``QuotesAndTrades`` and ``OrderFlowFeatures``) over the tick files, read in chunks;
- :mod:`models.micro.labels`: the next mid move and the mid's sign over 1 s, 10 s and 60 s;
- :mod:`models.micro.baselines`: majority class, last-move persistence, queue-imbalance logistic;
- :mod:`models.micro.train`: ``train_micro`` selects on the development days, refits, scores the
  held-out day once (``models.skill``) and writes one XGBoost JSON per label;
- :mod:`models.micro.predictor`: ``MicroModel`` loads them and predicts from feature rows.
"""

from models.micro.predictor import MicroModel
from models.micro.train import train_micro

__all__ = ["MicroModel", "train_micro"]
