from __future__ import annotations

import json

from models.report import REPORT_FILES, write_report


def test_report_files_are_written_next_to_the_model(trained):
    model_dir, manifest = trained
    assert manifest["report"] == REPORT_FILES
    for name in REPORT_FILES.values():
        assert (model_dir / name).stat().st_size > 0
    for kind in ("calibration_plot", "importance_plot", "regime_plot"):
        assert (model_dir / REPORT_FILES[kind]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_shows_fold_and_held_out_metrics_next_to_baselines(trained):
    model_dir, manifest = trained
    page = (model_dir / "report.html").read_text()
    summary = (model_dir / "report.md").read_text()
    for text in (page, summary):
        assert manifest["version"] in text
        assert f"{manifest['metrics']['trend']['auc']:.4f}" in text
        assert f"{manifest['validation']['folds']['trend'][0]['auc']:.4f}" in text
        assert f"{manifest['metrics']['meta']['baseline_always_positive_accuracy']:.4f}" in text
        assert f"{manifest['metrics']['volatility']['baseline_historical_mae_log']:.4f}" in text
        assert "acc. last-return sign" in text and "Leakage suite: " in text
    for plot in ("calibration_plot", "importance_plot", "regime_plot"):
        assert f"src='{REPORT_FILES[plot]}'" in page


def test_report_can_be_regenerated_from_the_model_directory(trained, tmp_path):
    model_dir, _ = trained
    before = (model_dir / "report.md").read_text()
    paths = write_report(model_dir)
    assert paths["markdown"].read_text() == before
    assert json.loads((model_dir / "manifest.json").read_text())["report"]["html"] == "report.html"


def test_report_says_per_model_and_symbol_whether_it_beats_its_baselines(trained):
    model_dir, manifest = trained
    summary = (model_dir / "report.md").read_text()
    page = (model_dir / "report.html").read_text()
    assert "## Which models have skill" in summary and "Which models have skill" in page
    for row in manifest["skill"]:
        line = next(line for line in summary.splitlines()
                    if line.startswith(f"| {row['model']} | {row['symbol']} | {row['metric']} "))
        assert line.split(" | ")[6] == ("**yes**" if row["beats"] else "no")
        assert f"{row['value']['value']:.4f} [{row['value']['low']:.4f}, {row['value']['high']:.4f}]" in line
    for model in ("trend", "mean_reversion", "volatility", "regime", "meta"):
        assert f"**{model}** (" in summary
    assert f"source **{manifest['calibration']['source']}**" in summary
