"""Momentum indicators (TA-Lib's "Momentum Indicators" group), split by kind across modules."""
