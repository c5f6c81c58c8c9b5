"""The forecast task: windows, time-ordered split, training statistics, naive MAE, Jena CSV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rnn_core.tasks.forecast import (
    JENA_TARGET,
    ForecastConfig,
    ForecastReport,
    ForecastResults,
    ForecastTask,
    forecast_figure,
    jena_series,
    make_forecast_data,
    naive_mae,
    parse_jena,
    sines_series,
    split_bounds,
    windows,
)

JENA_HEADER = (
    '"Date Time","p (mbar)","T (degC)","Tpot (K)","Tdew (degC)","rh (%)","VPmax (mbar)",'
    '"VPact (mbar)","VPdef (mbar)","sh (g/kg)","H2OC (mmol/mol)","rho (g/m**3)","wv (m/s)",'
    '"max. wv (m/s)","wd (deg)"'
)


def write_jena(folder: Path, rows: int) -> tuple[Path, np.ndarray]:
    """A tiny Jena-format CSV: row i has T (degC) = i / 10 and p = 1000 + i."""
    lines = [JENA_HEADER]
    temps = np.arange(rows) / 10.0
    for i, temp in enumerate(temps):
        stamp = f"{1 + i // 144:02d}.01.2009 {(i // 6) % 24:02d}:{(i % 6) * 10:02d}:00"
        rest = ",".join(str(v) for v in [temp + 273.0] + [float(j) for j in range(11)])
        lines.append(f"{stamp},{1000 + i},{temp},{rest}")
    path = folder / "jena_climate_2009_2016.csv"
    path.write_text("\n".join(lines) + "\n")
    return path, temps


def test_windows_shapes_and_alignment() -> None:
    series = np.arange(20, dtype=float).reshape(10, 2)  # (L, F): column 0 = 0, 2, 4, ...
    x, y, t = windows(series, 0, window=3, horizon=2)
    assert x.shape == (6, 3, 2) and y.shape == (6, 2) and t.shape == (6,)  # (N, T, F)
    for i in range(6):
        assert np.array_equal(x[i], series[t[i] - 3 : t[i]])
        assert np.array_equal(y[i], series[t[i] : t[i] + 2, 0])
    x2, _, t2 = windows(series, 0, window=3, horizon=1, stride=3)
    assert x2.shape == (3, 3, 2) and t2.tolist() == [3, 6, 9]
    with pytest.raises(ValueError, match="too short"):
        windows(series[:3], 0, window=3, horizon=1)


def test_split_is_in_time_order_and_windows_never_straddle_it() -> None:
    cfg = ForecastConfig(length=200, window=10, horizon=3, val_fraction=0.2, test_fraction=0.25)
    series = np.arange(200, dtype=float)[:, None]  # value == time index
    data = make_forecast_data(cfg, series, ("v",), 0, "")
    a, b = data.bounds
    assert (a, b) == split_bounds(200, 0.2, 0.25) == (110, 150)

    def raw(x: np.ndarray) -> np.ndarray:
        return x[..., 0] * data.std[0] + data.mean[0]  # (N, T) back to time indices

    for x, y, lo, hi in (
        (data.x_train, data.y_train, 0, a),
        (data.x_val, data.y_val, a, b),
        (data.x_test, data.y_test, b, 200),
    ):
        times = np.concatenate([raw(x).ravel(), y.ravel()])
        assert times.min() >= lo - 1e-3 and times.max() <= hi - 1 + 1e-3  # inside its own part
    assert raw(data.x_train).max() < raw(data.x_val).min() + 10  # order kept: train first
    assert data.t_test[0] == b + 10 and np.array_equal(data.y_test[:, 0], data.t_test)
    assert len(data.x_train) == a - 10 - 3 + 1


def test_normalisation_uses_training_statistics_only() -> None:
    cfg = ForecastConfig(length=100, window=5, val_fraction=0.2, test_fraction=0.2)
    series = np.ones((100, 1))
    base = make_forecast_data(cfg, series + np.arange(100)[:, None] * 0.01, ("v",), 0, "")
    changed = series + np.arange(100)[:, None] * 0.01
    changed[60:] += 1_000.0  # validation and test far away: must not move the statistics
    moved = make_forecast_data(cfg, changed, ("v",), 0, "")
    assert moved.mean == pytest.approx(base.mean) and moved.std == pytest.approx(base.std)
    assert moved.mean[0] == pytest.approx(np.mean(changed[:60]))
    assert np.allclose(moved.x_train, base.x_train)
    assert moved.x_test.mean() > 100  # the test inputs are scaled by training statistics


def test_naive_mae_against_a_hand_computed_value() -> None:
    # series 0, 1, 4, 9, 16 with window 2, horizon 1: windows end at 1, 4, 9 -> next 4, 9, 16
    series = np.array([0.0, 1.0, 4.0, 9.0, 16.0])[:, None]
    x, y, _ = windows(series, 0, 2, 1)
    assert naive_mae(x[:, -1, 0], y) == pytest.approx((3 + 5 + 7) / 3)
    # two steps ahead: last 1 -> (4, 9), last 4 -> (9, 16): errors 3, 8, 5, 12
    x, y, _ = windows(series, 0, 2, 2)
    assert naive_mae(x[:, -1, 0], y) == pytest.approx((3 + 8 + 5 + 12) / 4)


def test_data_naive_mae_is_in_the_series_units() -> None:
    cfg = ForecastConfig(length=60, window=4, val_fraction=0.25, test_fraction=0.25)
    series = (np.arange(60, dtype=float) ** 1.5)[:, None]  # steps grow with time
    data = make_forecast_data(cfg, series, ("v",), 0, "u")
    a, b = data.bounds
    val = series[a:b, 0]
    assert data.naive_val == pytest.approx(np.mean(np.diff(val)[3:]))  # |x_t - x_{t-1}|
    assert data.naive_test == pytest.approx(np.mean(np.diff(series[b:, 0])[3:]))
    assert np.allclose(data.last_value(data.x_val), val[3:-1], rtol=1e-5)


def test_sines_are_seeded_and_noisy() -> None:
    a, b = sines_series(500, 0.1, 3), sines_series(500, 0.1, 3)
    assert np.array_equal(a, b) and not np.array_equal(a, sines_series(500, 0.1, 4))
    clean = sines_series(500, 0.0, 3)
    assert np.std(a - clean) == pytest.approx(0.1, rel=0.2)


def test_bad_settings_are_refused_with_their_name() -> None:
    task = ForecastTask()
    for bad, word in ((dict(window=0), "window"), (dict(source="x"), "source"),
                      (dict(val_fraction=0.6, test_fraction=0.5), "fractions"),
                      (dict(length=100, window=40), "longer series")):  # fmt: skip
        with pytest.raises(ValueError, match=word):
            task.make_data(ForecastConfig(**bad))


def test_jena_parser_on_a_tiny_csv(tmp_path: Path) -> None:
    path, temps = write_jena(tmp_path, 60)
    names, values = parse_jena(path)
    assert names[1] == JENA_TARGET and len(names) == 14 and values.shape == (60, 14)
    assert np.allclose(values[:, 1], temps) and np.allclose(values[:, 0], 1000 + np.arange(60))
    cols, hourly, target = jena_series(path, all_columns=False)
    assert cols == (JENA_TARGET,) and target == 0 and hourly.shape == (10, 1)  # every 6th row
    assert np.allclose(hourly[:, 0], temps[::6])
    cols, hourly, target = jena_series(path, all_columns=True)
    assert hourly.shape == (10, 14) and cols[target] == JENA_TARGET


def test_jena_missing_wind_reads_as_calm(tmp_path: Path) -> None:
    path, _ = write_jena(tmp_path, 12)
    lines = path.read_text().splitlines()
    cells = lines[1].split(",")
    cells[12] = "-9999.0"  # "wv (m/s)" of the first row
    lines[1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    cols, hourly, _ = jena_series(path, all_columns=True)
    assert cols[11] == "wv (m/s)" and hourly[0, 11] == 0.0 and hourly[1, 11] == 8.0


def test_jena_task_reads_the_data_dir(tmp_path: Path) -> None:
    write_jena(tmp_path, 600)  # 100 hourly points
    cfg = ForecastConfig(source="jena", length=None, window=6, data_dir=str(tmp_path))
    task = ForecastTask()
    data = task.make_data(cfg, task.load_source(cfg))
    assert data.unit == "°C" and data.x_train.shape[1:] == (6, 1)
    assert data.naive_val == pytest.approx(0.6)  # hourly steps of 6 rows × 0.1 °C


def test_parser_refuses_another_csv(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not the Jena"):
        parse_jena(path)


def test_forecast_figure_has_true_model_and_naive_lines() -> None:
    t = np.arange(10, 15)
    fig = forecast_figure(t, np.arange(5.0), np.arange(5.0) + 0.5, np.arange(5.0) - 1, "°C")
    names = [trace.name for trace in fig.data]
    assert names == ["true", "model", "naive: repeat the last value"]
    assert list(fig.data[0].x) == [10, 11, 12, 13, 14]
    assert list(fig.data[1].y) == [0.5, 1.5, 2.5, 3.5, 4.5]
    assert fig.layout.yaxis.title.text == "value (°C)"


TINY = ForecastConfig(length=600, window=12, noise=0.1, seed=1)  # 400 training windows


def test_tiny_sines_run_through_the_run_flow_beats_naive_on_validation() -> None:
    pytest.importorskip("keras")
    from rnn_core.config import ModelConfig, RunSpec, TrainConfig
    from rnn_core.engine.budgets import Budget
    from rnn_core.run import start_run

    spec = RunSpec(
        task="forecast", data=TINY, model=ModelConfig(cell="GRU", units=8, seed=1),
        train=TrainConfig(epochs=3, batch_size=32, learning_rate=0.01),
    )  # fmt: skip
    run = start_run(spec, Budget.from_sources(), in_process=True)
    run.job.start()
    snap = run.job.wait(120)
    assert snap.state == "done" and snap.epoch == 3
    reports = snap.epoch_extras
    assert all(isinstance(r, ForecastReport) for r in reports) and len(reports) == 3
    assert reports[-1].naive_mae == pytest.approx(run.data.naive_val)
    assert reports[-1].mae < 0.8 * reports[-1].naive_mae  # clearly below the naive forecast
    assert snap.epoch_logs[-1]["val_mae"] == pytest.approx(reports[-1].mae, rel=1e-3)
    results = run.score()  # test scored once, after training
    assert isinstance(results, ForecastResults) and results.naive_mae == run.data.naive_test
    assert results.predicted.shape == run.data.y_test.shape  # (N_test, H)


def test_cli_json_has_test_mae_and_naive_mae(capsys) -> None:
    import json

    pytest.importorskip("keras")
    from rnn_core.cli import main

    argv = [
        "train", "--task", "forecast", "--length", "600", "--window", "12", "--noise", "0.1",
        "--horizon", "2", "--cell", "SimpleRNN", "--units", "4", "--epochs", "1", "--seed", "1",
        "--json",
    ]  # fmt: skip
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["task"] == "forecast" and result["epochs_run"] == 1
    assert result["config"]["data"]["horizon"] == 2 and "val_mae" in result["history"]
    data = ForecastTask().make_data(ForecastConfig(**{**TINY.__dict__, "horizon": 2}))
    test = result["test"]
    assert set(test) == {"mae", "naive_mae", "windows"}
    assert test["naive_mae"] == pytest.approx(data.naive_test)
    assert test["windows"] == len(data.y_test) and test["mae"] > 0


def test_keras_code_export_runs_its_data_part() -> None:
    from rnn_core.config import ModelConfig, RunSpec
    from rnn_core.export import keras_code

    cfg = ForecastConfig(length=300, window=10, horizon=2, seed=4)
    spec = RunSpec(task="forecast", data=cfg, model=ModelConfig(cell="LSTM", units=5))
    script = keras_code(spec)
    assert 'metrics=["mae"]' in script and "keras.layers.LSTM(5" in script
    data_part = script[script.index("# Data") : script.index("# Model")]
    scope: dict = {"np": np}
    exec(data_part, scope)  # the exported data code builds the same windows as the app
    ours = ForecastTask().make_data(cfg)
    assert np.allclose(scope["x_test"], ours.x_test, atol=1e-5)
    assert np.allclose(scope["y_test"], ours.y_test)


@pytest.mark.parametrize("pooling", ["max", "mean"])
def test_the_pooling_setting_is_in_the_model_and_the_exported_script(pooling: str) -> None:
    pytest.importorskip("keras")
    from rnn_core.config import ModelConfig, RunSpec
    from rnn_core.export import keras_code

    cfg = ForecastConfig(length=300, window=10, seed=4)
    spec = RunSpec(task="forecast", data=cfg, model=ModelConfig("GRU", 4, pooling=pooling))
    model = ForecastTask().build(spec, ForecastTask().make_data(cfg))
    layer = {"max": "GlobalMaxPooling1D", "mean": "GlobalAveragePooling1D"}[pooling]
    assert any(type(x).__name__ == layer for x in model.layers)  # the form's control is true
    assert model.get_layer("rnn_1").return_sequences  # the pooling reads every output
    assert f"keras.layers.{layer}()" in keras_code(spec)


def test_the_stepper_reads_a_test_window_of_the_series() -> None:
    pytest.importorskip("keras")
    from rnn_core.config import ModelConfig, RunSpec
    from rnn_core.stepper.numpy_rnn import parity_max_abs_diff
    from rnn_core.stepper.sources import recurrent_stack, trained_input
    from rnn_core.stepper.view import build_case, step_view

    task = ForecastTask()
    cfg = ForecastConfig(length=200, window=8, seed=2)
    data = task.make_data(cfg)
    spec = RunSpec(task="forecast", data=cfg, model=ModelConfig(cell="LSTM", units=3, seed=1))
    model = task.build(spec, data)
    choices = task.stepper_choices(data, 3)
    t = int(data.t_test[1])
    assert choices[1].startswith(f"#1: steps {t - 8}–{t - 1} → step {t}")
    inp = trained_input(model, "forecast", data, 1, "t")
    assert inp.x.shape == (8, 1) and len(inp.labels) == 8  # (T, F): one value per timestep
    assert float(inp.labels[-1]) == pytest.approx(data.series[t - 1, 0], abs=0.01)
    assert parity_max_abs_diff(list(inp.layers), inp.x, recurrent_stack(model)) < 1e-4
    case = build_case(inp, ("k",), "own")
    view = step_view(inp, case.traces, 0, 7, 0)
    assert view.t == 7 and "x_7" in view.reads and view.gates_fig is not None  # LSTM gates
    assert np.isfinite(case.lens["own"]).all()  # gradient of the forecast per input step
    pred = task.predict(model, inp.x[None])[0, 0]
    assert f"{pred:.3f}" in inp.prediction
