"""What pricing a real option chain costs, and how much of it can be priced: ``python -m bench.options``.

Replays each shared LEAN underlying-day (``../shared/data/options/lean``: GOOG, SPY, TWX, NWSA)
through :class:`operators.options.chain.OptionChain` and, every ``--every``-th minute of event
time within the regular session (09:31-16:00 New York), times (best of ``--repeat``, CPU time of this process, so that other work on the machine counts less):

* ``black``: implied volatility + greeks (:mod:`operators.options.black`) of every two-sided
  quote of the chain at once, European (the solver and greeks alone), in ms per 1,000 contracts;
* ``analytics``: the chain's whole ``analytics`` pass (checks, de-Americanization on a CRR tree,
  IV, greeks), in ms per 1,000 quoted contracts;
* ``surface``: :class:`operators.options.surface.VolSurface` (smiles and SVI fits) per minute;
* ``features``: the underlying's features as the feature step joins them (the chain read as
  European, :func:`operators.options.surface.chain_features`, no fits), ms per minute.

It also prints, per day, the share of quoted contracts (and of two-sided quotes) with a valid
IV by moneyness bucket (strike / spot), over the sampled minutes, and the reasons counted.
Figures are printed and written to ``--out`` (JSON), never asserted. ``--plot docs/options_smile_goog.png``
draws the real GOOG smiles of 2015-12-24 at noon with their SVI fits instead.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections import Counter
from pathlib import Path

import numpy as np
import orjson

from bench.machine import machine_facts
from dataflows.optionfiles import midnight_ns, read_interest_rates, read_option_day
from operators.options.black import greeks, implied_vol
from operators.options.chain import ChainConfig, OptionChain
from operators.options.surface import VolSurface, chain_features
from operators.options.svi import total_variance

LEAN = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "options" / "lean"
DAYS = {"GOOG": dt.date(2015, 12, 24), "SPY": dt.date(2023, 8, 3), "TWX": dt.date(2014, 6, 5),
        "NWSA": dt.date(2013, 6, 28)}
BUCKETS = (0.0, 0.8, 0.9, 0.97, 1.03, 1.1, 1.2, np.inf)
BUCKET_NAMES = ("<0.8", "0.8-0.9", "0.9-0.97", "0.97-1.03", "1.03-1.1", "1.1-1.2", ">=1.2")
MINUTE_NS = 60 * 1_000_000_000


def best_of(repeat: int, work) -> float:
    best = np.inf
    for _ in range(repeat):
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    return best


def black_pass(columns: dict, spot: float):
    two_sided = (columns["bid"] > 0) & (columns["ask"] >= columns["bid"]) & (columns["years"] > 0)
    c = {name: values[two_sided] for name, values in columns.items()}
    forward, discount = spot * np.exp(c["rate"] * c["years"]), np.exp(-c["rate"] * c["years"])

    def work():
        vol, _ = implied_vol(c["mid"], forward, c["strike"], c["years"], discount, c["is_call"])
        solved = np.isfinite(vol)
        greeks(np.full(solved.sum(), spot), c["strike"][solved], c["years"][solved], c["rate"][solved],
               np.zeros(solved.sum()), vol[solved], c["is_call"][solved])
    return int(two_sided.sum()), work


def run_day(underlying: str, day: dt.date, every: int, repeat: int, steps: int) -> dict:
    messages = read_option_day(LEAN, underlying, day).messages
    chain = OptionChain(underlying, ChainConfig(read_interest_rates(LEAN / "interest-rate.csv"), tree_steps=steps))
    surface = VolSurface()
    timings: dict[str, list[float]] = {"black": [], "analytics": [], "surface_ms": [], "features_ms": []}
    quoted, valid, two_sided_counts, valid_two_sided = (np.zeros(len(BUCKET_NAMES)) for _ in range(4))
    reasons: Counter = Counter()
    minute = (messages[0].ts_ns // MINUTE_NS + 1) * MINUTE_NS
    session = (midnight_ns(day) + 570 * MINUTE_NS, midnight_ns(day) + 960 * MINUTE_NS)  # 09:30-16:00 New York
    minutes = 0
    position = 0
    while position < len(messages):
        while position < len(messages) and messages[position].ts_ns <= minute:
            chain.update(messages[position])
            position += 1
        minutes += 1
        regular = session[0] < minute <= session[1]
        analytics = chain.analytics(minute) if regular and minutes % every == 0 and np.isfinite(chain.spot) else None
        size = len(analytics.contracts) if analytics else 0
        if size:
            timings["analytics"].append(best_of(repeat, lambda: chain.analytics(minute)) / size * 1e6)
            priced, work = black_pass(analytics.columns, analytics.spot)
            if priced:
                timings["black"].append(best_of(repeat, work) / priced * 1e6)
            timings["surface_ms"].append(best_of(1, lambda: surface.update(analytics)) * 1e3)
            timings["features_ms"].append(
                best_of(repeat, lambda: chain_features(chain.analytics(minute, american=False))) * 1e3)
            c = analytics.columns
            bucket = np.digitize(c["strike"] / analytics.spot, BUCKETS) - 1
            has_iv, two_sided = np.isfinite(c["iv"]), (c["bid"] > 0) & (c["ask"] >= c["bid"])
            for counts, mask in ((quoted, True), (valid, has_iv), (two_sided_counts, two_sided),
                                 (valid_two_sided, has_iv & two_sided)):
                counts += np.bincount(bucket[mask & np.ones(size, bool)], minlength=len(BUCKET_NAMES))
            reasons.update(analytics.reason_counts)
        minute += MINUTE_NS
    return {"underlying": underlying, "day": day.isoformat(), "minutes_sampled": len(timings["analytics"]),
            "contracts": len(chain.contracts),
            "black_ms_per_1000": float(np.median(timings["black"])) if timings["black"] else None,
            "analytics_ms_per_1000": float(np.median(timings["analytics"])),
            "surface_ms_per_minute": float(np.median(timings["surface_ms"])),
            "features_ms_per_minute": float(np.median(timings["features_ms"])),
            "valid_share_quoted": dict(zip(BUCKET_NAMES, _shares(valid, quoted))),
            "valid_share_two_sided": dict(zip(BUCKET_NAMES, _shares(valid_two_sided, two_sided_counts))),
            "quoted_by_bucket": dict(zip(BUCKET_NAMES, quoted.astype(int).tolist())),
            "reasons": dict(reasons.most_common())}


def plot_smiles(path: Path, underlying: str = "GOOG", hour_utc: int = 17, expiries: int = 4) -> None:
    """Mid implied volatilities (out-of-the-money side) and their SVI fits, the first ``expiries``
    expiries at least a week out, as of ``hour_utc`` on the underlying's shared day."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    day = DAYS[underlying]
    chain = OptionChain(underlying, ChainConfig(read_interest_rates(LEAN / "interest-rate.csv")))
    at = int(dt.datetime.combine(day, dt.time(hour_utc), dt.timezone.utc).timestamp()) * 1_000_000_000
    for message in read_option_day(LEAN, underlying, day).messages:
        if message.ts_ns > at:
            break
        chain.update(message)
    analytics = chain.analytics(at)
    rows = VolSurface().update(analytics)
    c = analytics.columns
    figure, axis = plt.subplots(figsize=(8, 5))
    for row in [r for r in rows if r.years * 365 >= 7 and r.svi is not None][:expiries]:
        mask = np.array([o.expiry == row.expiry for o in analytics.contracts]) & np.isfinite(c["iv"])
        k = np.log(c["strike"][mask] / row.forward)
        otm = np.where(c["is_call"][mask], k >= 0, k < 0)
        points = axis.scatter(k[otm], c["iv"][mask][otm] * 100, s=12)
        grid = np.linspace(k[otm].min(), k[otm].max(), 200)
        fitted = np.sqrt(total_variance(row.svi, grid) / row.years) * 100
        axis.plot(grid, fitted, color=points.get_facecolor()[0],
                  label=f"{row.expiry} (SVI RMSE {row.svi_rmse_vol * 100:.2f} vol pts)")
    axis.set_xlabel("log-moneyness ln(K / F)")
    axis.set_ylabel("implied volatility, % (de-Americanized mid)")
    axis.set_title(f"{underlying} smiles, {day} {hour_utc - 5:02d}:00 New York (LEAN minute quotes)")
    axis.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    print(f"wrote {path}")


def _shares(numerator: np.ndarray, denominator: np.ndarray) -> list[float | None]:
    return [float(n / d) if d else None for n, d in zip(numerator, denominator)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=10, help="price every N-th minute (default 10)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tree-steps", type=int, default=100)
    parser.add_argument("--underlyings", default=",".join(DAYS))
    parser.add_argument("--out", type=Path, default=Path("bench/results/options.json"))
    parser.add_argument("--plot", type=Path, help="only draw the GOOG noon smiles with their SVI fits to this PNG")
    args = parser.parse_args()
    if args.plot:
        plot_smiles(args.plot)
        return
    results = [run_day(name, DAYS[name], args.every, args.repeat, args.tree_steps)
               for name in args.underlyings.split(",")]
    print("| underlying-day | contracts | minutes | IV+greeks ms/1,000 (European) | analytics ms/1,000 "
          "(with de-Americanization) | surface ms/minute | features ms/minute |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        black = f"{r['black_ms_per_1000']:.2f}" if r["black_ms_per_1000"] is not None else "-"
        print(f"| {r['underlying']} {r['day']} | {r['contracts']:,} | {r['minutes_sampled']} | {black} | "
              f"{r['analytics_ms_per_1000']:.1f} | {r['surface_ms_per_minute']:.1f} | {r['features_ms_per_minute']:.1f} |")
    print("\nshare of quoted contracts with a valid IV (two-sided quotes in brackets), by strike/spot:")
    print("| underlying-day | " + " | ".join(BUCKET_NAMES) + " |")
    print("|---|" + "---|" * len(BUCKET_NAMES))
    for r in results:
        cells = [f"{_pct(r['valid_share_quoted'][b])} ({_pct(r['valid_share_two_sided'][b])})" for b in BUCKET_NAMES]
        print(f"| {r['underlying']} {r['day']} | " + " | ".join(cells) + " |")
    for r in results:
        print(f"reasons {r['underlying']}: {r['reasons']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps({"machine": machine_facts(), "args": vars(args) | {"out": str(args.out)},
                                       "results": results}, option=orjson.OPT_INDENT_2))
    print(f"wrote {args.out}")


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"


if __name__ == "__main__":
    main()
