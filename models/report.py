"""The validation report of a trained model directory: ``report.html``, ``report.md`` and PNG plots.

Everything comes from the directory itself (``manifest.json``, the XGBoost JSON models), so
``write_report(model_dir)`` regenerates the report of any trained model. The HTML page is
self-contained apart from the PNGs next to it: open ``report.html`` in a browser.

Contents: the leakage verdict; held-out metrics per model next to the naive baselines;
walk-forward fold metrics per model (AUC, log loss, Brier, accuracy vs always-up and
last-return sign; MAE and correlation vs historical volatility; regime accuracy vs the
majority class); calibration curves (held out and per fold); feature importance (total gain)
per model; the regime distribution.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb

from models.manifest import MODEL_NAMES
from models.skill import SkillRow, markdown_table, skill_summary

REPORT_FILES = {
    "html": "report.html",
    "markdown": "report.md",
    "calibration_plot": "report_calibration.png",
    "importance_plot": "report_feature_importance.png",
    "regime_plot": "report_regimes.png",
}
TOP_FEATURES = 15
_CLASSIFIER_COLUMNS = (
    ("auc", "AUC"), ("log_loss", "log loss"), ("baseline_base_rate_log_loss", "log loss, base rate"),
    ("brier", "Brier"), ("baseline_base_rate_brier", "Brier, base rate"), ("calibration_error", "ECE"),
    ("accuracy", "accuracy"), ("baseline_always_positive_accuracy", "acc. always up"),
    ("baseline_past_return_sign_accuracy", "acc. last-return sign"), ("rows", "rows"),
    ("effective_labels", "independent labels"), ("chance_auc_band", "chance AUC 0.5 +-"),
)
_VOLATILITY_COLUMNS = (
    ("mae_log", "MAE log"), ("baseline_historical_mae_log", "MAE log, historical"), ("pearson_log", "corr log"),
    ("baseline_historical_pearson_log", "corr log, historical"), ("rows", "rows"),
)
_REGIME_COLUMNS = (("accuracy", "accuracy"), ("baseline_majority_accuracy", "acc. majority"),
                   ("log_loss", "log loss"), ("rows", "rows"))


def columns_for(model: str) -> tuple[tuple[str, str], ...]:
    return {"volatility": _VOLATILITY_COLUMNS, "regime": _REGIME_COLUMNS}.get(model, _CLASSIFIER_COLUMNS)


def feature_importance(model_dir: Path, manifest: Mapping[str, Any]) -> dict[str, list[tuple[str, float]]]:
    """Per model, (input name, total gain) sorted by gain, largest first."""
    out = {}
    for name in MODEL_NAMES:
        entry = manifest["models"][name]
        booster = xgb.Booster(model_file=str(Path(model_dir) / entry["file"]))
        names = entry.get("inputs", entry["features"])
        gains = booster.get_score(importance_type="total_gain")
        ranked = sorted(((names[int(key[1:])], float(value)) for key, value in gains.items()), key=lambda kv: -kv[1])
        out[name] = ranked
    return out


def write_report(model_dir: Path) -> dict[str, Path]:
    """Write the report files into ``model_dir``; returns their paths by kind."""
    import matplotlib

    matplotlib.use("Agg")
    model_dir = Path(model_dir)
    manifest = json.loads((model_dir / "manifest.json").read_text())
    importance = feature_importance(model_dir, manifest)
    paths = {kind: model_dir / name for kind, name in REPORT_FILES.items()}
    _plot_calibration(manifest, paths["calibration_plot"])
    _plot_importance(importance, paths["importance_plot"])
    _plot_regimes(manifest, paths["regime_plot"])
    paths["html"].write_text(_html(manifest, importance))
    paths["markdown"].write_text(_markdown(manifest))
    return paths


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return "nan" if not np.isfinite(value) else f"{value:.4f}"
    return str(value)


def _table_rows(manifest: Mapping[str, Any], model: str) -> tuple[list[str], list[list[str]]]:
    columns = columns_for(model)
    header = ["fold", "test from (UTC)", *(label for _, label in columns)]
    rows = []
    for fold in manifest["validation"]["folds"].get(model, []):
        start = np.datetime64(int(fold["test_start_ns"]), "ns").astype("datetime64[s]")
        rows.append([str(fold["fold"]), str(start), *(_fmt(fold.get(key)) for key, _ in columns)])
    held = manifest["metrics"][model]
    start = np.datetime64(int(manifest["created_from"]["validation_ts_ns"][0]), "ns").astype("datetime64[s]")
    rows.append(["held out", str(start), *(_fmt(held.get(key)) for key, _ in columns)])
    return header, rows


SKILL_SECTIONS = (("skill", "tick ensemble (1 s rows; blocks: 10 minutes)"),
                  ("micro", "microstructure specialist (quote-time rows)"),
                  ("bars", "long-history bar models (hourly and daily bars)"))


def skill_rows(manifest: Mapping[str, Any]) -> dict[str, list[SkillRow]]:
    """The held-out skill rows of each part of the model directory that has them."""
    out = {}
    for key, title in SKILL_SECTIONS:
        raw = manifest.get(key) if key == "skill" else (manifest.get(key) or {}).get("skill")
        if raw:
            out[title] = [SkillRow.from_dict(row) for row in raw]
    return out


def _calibration_line(manifest: Mapping[str, Any]) -> str:
    calibration = manifest["calibration"]
    held = manifest["metrics"]["meta"]
    weighted = manifest["models"]["meta"]["weighted"]
    return (f"Ensemble probability: source **{calibration['source']}** (Platt a={calibration['a']:.3f}, "
            f"b={calibration['b']:.3f}, chosen on out-of-fold blocks); specialists with weight in the meta model: "
            f"{', '.join(k for k, v in weighted.items() if v) or 'none'}; held-out ECE "
            f"{_fmt(held.get('calibration_error'))} (target <= 0.03).")


def _skill_markdown(manifest: Mapping[str, Any]) -> list[str]:
    out = ["## Which models have skill (held out, scored once)", "",
           "A model beats a baseline when the whole 95% block-bootstrap interval of (model - best baseline) lies on "
           "the better side of zero.", "", _calibration_line(manifest), ""]
    for title, rows in skill_rows(manifest).items():
        out += [f"### {title}", ""] + [f"- {line}" for line in skill_summary(rows)] + ["", markdown_table(rows), ""]
    return out


def _leakage_lines(manifest: Mapping[str, Any]) -> list[str]:
    leakage = manifest["validation"]["leakage"]
    lines = [f"Leakage suite: **{'passed' if leakage['passed'] else 'FLAGGED'}**"]
    lines += [f"- {finding}" for finding in leakage["findings"]]
    for name, check in leakage["shuffled_labels"].items():
        aucs = ", ".join(f"{f['auc']:.3f} (+-{f['bound']:.3f})" for f in check["folds"])
        lines.append(f"- shuffled-label control, {name}: fold AUCs {aucs}; band 0.5 +- {check['z']} standard errors")
    return lines


def _markdown(manifest: Mapping[str, Any]) -> str:
    created = manifest["created_from"]
    out = [f"# Validation report, model {manifest['version']}", "",
           f"Symbols {', '.join(created['symbols'])}; {created['rows']:,} rows; "
           f"{manifest['validation']['n_folds']} {manifest['validation']['scheme']} walk-forward folds with purging "
           f"and a {manifest['validation']['embargo_ns'] / 1e9:.0f} s embargo; held out: "
           f"{created['validation_rows']:,} rows from {_when(created['validation_ts_ns'][0])}. "
           "Plots: see report.html.", ""]
    out += _skill_markdown(manifest)
    out += _leakage_lines(manifest) + [""]
    for model in MODEL_NAMES:
        header, rows = _table_rows(manifest, model)
        out += [f"## {model}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(row) + " |" for row in rows]
        out.append("")
    distribution = manifest["regime"]["distribution"]
    out += ["## Regimes", ""] + [f"- {kind}: {json.dumps(counts)}" for kind, counts in distribution.items()
                                  if not kind.endswith("by_symbol")]
    return "\n".join(out) + "\n"


def _when(ns: int) -> str:
    return str(np.datetime64(int(ns), "ns").astype("datetime64[s]")) + " UTC"


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html(manifest: Mapping[str, Any], importance: Mapping[str, list[tuple[str, float]]]) -> str:
    created = manifest["created_from"]
    leakage = manifest["validation"]["leakage"]
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>tickwise model {html.escape(manifest['version'])}</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#eee}"
        ".bad{color:#b00}.good{color:#070}</style></head><body>",
        f"<h1>Validation report, model {html.escape(manifest['version'])}</h1>",
        f"<p>Symbols {html.escape(', '.join(created['symbols']))}; {created['rows']:,} feature rows; "
        f"{manifest['validation']['n_folds']} {html.escape(manifest['validation']['scheme'])} walk-forward folds, purged, "
        f"embargo {manifest['validation']['embargo_ns'] / 1e9:.0f} s (label reach "
        f"{manifest['validation']['label_reach_ns'] / 1e9:.0f} s); {created['validation_rows']:,} rows from "
        f"{_when(created['validation_ts_ns'][0])} are held out and scored once by the final models. The meta model trains only on out-of-fold predictions.</p>",
        f"<h2 class='{'good' if leakage['passed'] else 'bad'}'>Leakage suite: "
        f"{'passed' if leakage['passed'] else 'FLAGGED'}</h2><ul>",
        *(f"<li>{html.escape(line[2:])}</li>" for line in _leakage_lines(manifest)[1:]),
        "</ul>",
        "<h2>Which models have skill (held out, scored once)</h2><p>A model beats a baseline when the whole 95% "
        "block-bootstrap interval of (model - best baseline) lies on the better side of zero.</p>",
        f"<p>{html.escape(_calibration_line(manifest)).replace('**', '')}</p>",
    ]
    for title, rows in skill_rows(manifest).items():
        parts += [f"<h3>{html.escape(title)}</h3><ul>",
                  *(f"<li>{html.escape(line).replace('**', '')}</li>" for line in skill_summary(rows)), "</ul>",
                  _html_table(["model", "symbol", "metric", "held out [95% CI]", "baselines", "vs best baseline [95% CI]",
                               "beats", "rows", "blocks"],
                              [[r.model, r.symbol, r.metric, str(r.value),
                                "; ".join(f"{k} {v:.4f}" for k, v in r.baselines.items()),
                                f"{r.difference} ({r.best_baseline})", "yes" if r.beats else "no", f"{r.rows:,}",
                                f"{r.blocks:,}"] for r in rows])]
    parts += ["<h2>Metrics per model: walk-forward folds and held out, next to naive baselines</h2>"]
    for model in MODEL_NAMES:
        header, rows = _table_rows(manifest, model)
        parts += [f"<h3>{html.escape(model)}</h3>", _html_table(header, rows)]
    parts += ["<h2>Calibration (held out and folds)</h2>", f"<img src='{REPORT_FILES['calibration_plot']}' width='100%'>",
              "<h2>Feature importance (total gain)</h2>", f"<img src='{REPORT_FILES['importance_plot']}' width='100%'>"]
    for model, ranked in importance.items():
        rows = [[name, f"{gain:.1f}"] for name, gain in ranked[:TOP_FEATURES]]
        parts += [f"<details><summary>{html.escape(model)}: top {len(rows)}</summary>",
                  _html_table(["input", "total gain"], rows), "</details>"]
    distribution = manifest["regime"]["distribution"]
    regime_rows = [[kind, *(_fmt(counts.get(label, 0)) for label in manifest["regime"]["labels"])]
                   for kind, counts in distribution.items() if not kind.endswith("by_symbol")]
    regime_rows += [[f"classifier held out, {symbol}", *(_fmt(counts.get(label, 0)) for label in manifest["regime"]["labels"])]
                    for symbol, counts in distribution["classifier_held_out_by_symbol"].items()]
    parts += ["<h2>Regimes</h2>", f"<p>Gaussian mixture on {html.escape(', '.join(manifest['regime']['gmm_inputs']))} "
              f"(trailing {manifest['regime']['window_ns'] / 60e9:.0f} min), ordered by volatility; an XGBoost "
              "classifier predicts them live.</p>",
              _html_table(["rows", *manifest["regime"]["labels"]], regime_rows),
              f"<img src='{REPORT_FILES['regime_plot']}' width='60%'>", "</body></html>"]
    return "\n".join(parts) + "\n"


def _plot_calibration(manifest: Mapping[str, Any], path: Path) -> None:
    import matplotlib.pyplot as plt

    models = [m for m in MODEL_NAMES if "calibration" in manifest["metrics"][m]]
    figure, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 4.5), squeeze=False)
    for axis, model in zip(axes[0], models):
        for fold in manifest["validation"]["folds"][model]:
            curve = fold["calibration"]
            axis.plot([b["predicted"] for b in curve], [b["observed"] for b in curve], "o-", alpha=0.4,
                      label=f"fold {fold['fold']}")
        curve = manifest["metrics"][model]["calibration"]
        axis.plot([b["predicted"] for b in curve], [b["observed"] for b in curve], "s-k", label="held out")
        axis.plot([0, 1], [0, 1], ":", color="grey")
        axis.set(title=model, xlabel="predicted probability", ylabel="observed frequency", xlim=(0, 1), ylim=(0, 1))
        axis.legend(fontsize=7)
    _save(figure, path)


def _plot_importance(importance: Mapping[str, list[tuple[str, float]]], path: Path) -> None:
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(importance), figsize=(4.2 * len(importance), 5), squeeze=False)
    for axis, (model, ranked) in zip(axes[0], importance.items()):
        top = ranked[:TOP_FEATURES][::-1]
        axis.barh([name for name, _ in top], [gain for _, gain in top])
        axis.set_title(model)
        axis.tick_params(axis="y", labelsize=7)
    _save(figure, path)


def _plot_regimes(manifest: Mapping[str, Any], path: Path) -> None:
    import matplotlib.pyplot as plt

    distribution = {k: v for k, v in manifest["regime"]["distribution"].items() if not k.endswith("by_symbol")}
    labels = manifest["regime"]["labels"]
    figure, axis = plt.subplots(figsize=(7, 4))
    width = 0.8 / len(distribution)
    for i, (kind, counts) in enumerate(distribution.items()):
        total = max(sum(counts.values()), 1)
        axis.bar(np.arange(len(labels)) + i * width, [counts[label] / total for label in labels], width, label=kind)
    axis.set_xticks(np.arange(len(labels)) + 0.4 - width / 2, labels)
    axis.set_ylabel("share of rows")
    axis.legend(fontsize=8)
    _save(figure, path)


def _save(figure: Any, path: Path) -> None:
    """Lay out, write and close one plot."""
    import matplotlib.pyplot as plt

    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)
