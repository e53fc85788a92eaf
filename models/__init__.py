"""Labels, training and batch scoring of the XGBoost ensemble; imports nothing else of ours.

Works on numpy arrays and pandas DataFrames only: ``labels`` (targets from future prices),
``train`` (specialists + regime + meta model -> XGBoost JSON files + manifest.json),
``ensemble`` (load a model directory, score feature batches), ``registry`` (find a model dir).
"""
