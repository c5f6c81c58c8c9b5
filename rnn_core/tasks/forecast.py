"""Time-series forecasting: from a window of a series predict its next value(s) (many-to-one).

Two sources: ``"sines"``, a noisy sum of sines generated here (works offline), and ``"jena"``,
the Jena climate temperature that Keras's "timeseries weather forecasting" example and Deep
Learning with Python 6.3 use (one reading every 10 minutes; every 6th row = hourly). The series
is split **in time order** (train, then validation, then test; no window straddles a split),
inputs are normalised with the training part's statistics only, and every MAE is in the series'
own units, beside the naive forecast "repeat the last value".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rnn_core.config import CELLS, RunSpec
from rnn_core.data.files import add_source, resolve_data_dir
from rnn_core.tasks.base import DETAIL, KerasCode, Report, Results, Task
from rnn_core.tasks.info import TaskInfo

SOURCES = ("sines", "jena")  # where the series comes from
JENA_FILE = "jena_climate_2009_2016.csv"  # the CSV inside Keras's zip
JENA_URL = (
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/jena_climate_2009_2016.csv.zip"
)
JENA_TARGET = "T (degC)"  # the column forecast
JENA_HOURLY = 6  # one row every 10 minutes: every 6th row is one reading per hour
JENA_MISSING = -9999.0  # the wind columns' marker of a missing reading (read as 0 m/s)
add_source(JENA_FILE, JENA_URL, zipped=True)  # `python -m rnn_core fetch` downloads it too
SINE_PERIODS = (12.0, 31.0, 77.0)  # steps per cycle of the three sines summed
SINE_AMPLITUDES = (1.0, 0.6, 0.4)  # their amplitudes
SINES_LENGTH = 2_000  # sines points generated when ``length`` is None


@dataclass(frozen=True)
class ForecastConfig:
    """A series, how it is cut into windows, and how it is split in time."""

    source: str = "sines"  # "sines" (generated, offline) or "jena" (Jena climate, hourly)
    window: int = 24  # past values the model reads (timesteps T); jena: hours
    horizon: int = 1  # values predicted after each window (1 = the next value only)
    length: int | None = 2_000  # sines: points generated; jena: last points used (None = all)
    noise: float = 0.1  # sines: standard deviation of the Gaussian noise added
    all_columns: bool = False  # jena: read all 14 weather columns (False: the temperature only)
    stride: int = 1  # steps between the starts of two windows
    val_fraction: float = 0.15  # share of the series after the training part, for validation
    test_fraction: float = 0.15  # the series' last share, held out for the test scores
    data_dir: str | None = None  # jena: folder with the CSV; None = $RNN_LAB_DATA_DIR / Keras
    seed: int = 0  # sines: seed of the phases and the noise


# ----- the series --------------------------------------------------------------------------
def sines_series(length: int, noise: float, seed: int) -> np.ndarray:
    """A noisy sum of three sines with seeded phases. Returns (length,) float64."""
    rng = np.random.default_rng(seed)
    t = np.arange(length, dtype=np.float64)  # (L,)
    phases = rng.uniform(0, 2 * np.pi, size=len(SINE_PERIODS))
    clean = sum(
        a * np.sin(2 * np.pi * t / p + ph)
        for a, p, ph in zip(SINE_AMPLITUDES, SINE_PERIODS, phases, strict=True)
    )  # (L,)
    return clean + noise * rng.standard_normal(length)  # (L,)


def parse_jena(path: str | Path) -> tuple[tuple[str, ...], np.ndarray]:
    """The Jena CSV's numeric column names and values, every 10-minute row. Returns (R, C)."""
    with open(path, encoding="utf-8") as f:
        header = [h.strip().strip('"') for h in f.readline().strip().split(",")]
    if not header or header[0] != "Date Time" or JENA_TARGET not in header:
        raise ValueError(
            f"{path}: not the Jena climate CSV (needs 'Date Time' and {JENA_TARGET!r})"
        )
    cols = range(1, len(header))
    values = np.loadtxt(path, delimiter=",", skiprows=1, usecols=cols, ndmin=2)  # (R, C)
    return tuple(header[1:]), values.astype(np.float64)


def jena_series(path: str | Path, all_columns: bool) -> tuple[tuple[str, ...], np.ndarray, int]:
    """Hourly Jena readings: (column names, values (L, F), index of the temperature column)."""
    names, values = parse_jena(path)
    values = values[::JENA_HOURLY]  # (L, C): rows 0, 6, 12, ... as in the Keras/DLwP examples
    wind = [i for i, n in enumerate(names) if "wv (m/s)" in n]  # wv and max. wv
    values[:, wind] = np.where(values[:, wind] == JENA_MISSING, 0.0, values[:, wind])
    if not all_columns:
        i = names.index(JENA_TARGET)
        return (JENA_TARGET,), values[:, i : i + 1], 0
    return names, values, names.index(JENA_TARGET)


def load_jena(data_dir: str | None, all_columns: bool) -> tuple[tuple[str, ...], np.ndarray, int]:
    """:func:`jena_series` of the CSV in the data dir, else Keras's cache, else downloaded."""
    from rnn_core.data.files import download, load_file, resolve_data_dir

    return load_file(
        JENA_FILE,
        resolve_data_dir(data_dir),
        lambda path: jena_series(path, all_columns),
        lambda _keras: jena_series(download(JENA_FILE), all_columns),
    )


# ----- windows, split, normalisation, naive baseline --------------------------------------
def split_bounds(length: int, val_fraction: float, test_fraction: float) -> tuple[int, int]:
    """(a, b): the series' [0, a) trains, [a, b) validates, [b, length) tests, in time order."""
    if not (0 < val_fraction < 1 and 0 < test_fraction < 1 and val_fraction + test_fraction < 1):
        raise ValueError("validation and test fractions must be in (0, 1) and sum below 1")
    b = length - int(round(length * test_fraction))
    a = b - int(round(length * val_fraction))
    return a, b


def windows(
    series: np.ndarray, target: int, window: int, horizon: int, stride: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inputs, the next ``horizon`` values of column ``target`` and each target's first index.

    ``series`` is (L, F); returns x (N, T, F), y (N, H) and t (N,) with
    ``y[i, h] == series[t[i] + h, target]`` and ``x[i] == series[t[i] - T : t[i]]``.
    """
    n = (len(series) - window - horizon) // stride + 1
    if n < 1:
        raise ValueError(
            f"a part of {len(series)} points is too short for a window of {window} "
            f"and {horizon} value(s) to predict"
        )
    starts = np.arange(n) * stride  # (N,)
    steps = np.arange(window)  # (T,)
    x = series[starts[:, None] + steps[None, :]]  # (N, T, F)
    t = starts + window  # (N,) index of the first predicted value
    y = series[t[:, None] + np.arange(horizon)[None, :], target]  # (N, H)
    return x, y, t


def train_stats(train_part: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and standard deviation of the training part only. Each (F,)."""
    mean = train_part.mean(axis=0)  # (F,)
    std = train_part.std(axis=0)  # (F,)
    return mean, np.where(std > 0, std, 1.0)


def naive_mae(last: np.ndarray, y: np.ndarray) -> float:
    """MAE of "repeat the last value": ``last`` (N,) raw last inputs against y (N, H) raw."""
    return float(np.mean(np.abs(y - last[:, None])))


def mae(pred: np.ndarray, y: np.ndarray) -> float:
    """Mean absolute error between predictions and targets (same shape, same units)."""
    return float(np.mean(np.abs(np.asarray(pred, np.float64) - y)))


@dataclass(frozen=True)
class ForecastData:
    """Windows of one series, split in time order, inputs normalised by training statistics."""

    config: ForecastConfig  # the config the data was made from
    series: np.ndarray  # (L, F) the whole series in its own units
    columns: tuple[str, ...]  # (F,) names of the features read
    target: int  # index of the forecast column in ``columns``
    unit: str  # the forecast column's unit ("°C", or "" for the sines)
    bounds: tuple[int, int]  # (a, b): train [0, a), validation [a, b), test [b, L)
    mean: np.ndarray  # (F,) training-part mean, subtracted from every input
    std: np.ndarray  # (F,) training-part standard deviation, dividing every input
    x_train: np.ndarray  # (N, T, F) normalised windows
    y_train: np.ndarray  # (N, H) next values in the series' units
    x_val: np.ndarray  # (N_val, T, F)
    y_val: np.ndarray  # (N_val, H)
    x_test: np.ndarray  # (N_test, T, F)
    y_test: np.ndarray  # (N_test, H)
    t_test: np.ndarray  # (N_test,) series index of each test window's first predicted value
    naive_val: float  # validation MAE of "repeat the last value"
    naive_test: float  # test MAE of "repeat the last value"
    note: str  # sizes, shown above a run

    def last_value(self, x: np.ndarray) -> np.ndarray:
        """Each window's last value of the forecast column, in its units. Returns (N,)."""
        return x[:, -1, self.target] * self.std[self.target] + self.mean[self.target]


def _check(cfg: ForecastConfig) -> None:
    """Refuse settings no series can be cut with, naming the setting."""
    if cfg.source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, got {cfg.source!r}")
    for name in ("window", "horizon", "stride"):
        if int(getattr(cfg, name)) < 1:
            raise ValueError(f"{name} must be a whole number >= 1, got {getattr(cfg, name)!r}")
    if cfg.length is not None and cfg.length < 10:
        raise ValueError(f"length must be at least 10 points, got {cfg.length}")
    if cfg.noise < 0:
        raise ValueError(f"noise must be >= 0, got {cfg.noise}")


def make_forecast_data(
    cfg: ForecastConfig, series: np.ndarray, columns: tuple[str, ...], target: int, unit: str
) -> ForecastData:
    """Split ``series`` (L, F) in time order, normalise by the training part, cut windows."""
    _check(cfg)
    if cfg.length is not None:
        series = series[-cfg.length :]  # (L, F): the most recent points
    a, b = split_bounds(len(series), cfg.val_fraction, cfg.test_fraction)
    mean, std = train_stats(series[:a])  # (F,), (F,): test and validation never seen here
    parts, naive = {}, {}
    for name, lo, hi in (("train", 0, a), ("val", a, b), ("test", b, len(series))):
        try:
            x, y, t = windows(series[lo:hi], target, cfg.window, cfg.horizon, cfg.stride)
        except ValueError as exc:
            msg = f"the {name} part: {exc}; use a longer series or a shorter window"
            raise ValueError(msg) from None
        naive[name] = naive_mae(x[:, -1, target], y)  # raw last input against raw targets
        x = ((x - mean) / std).astype(np.float32)  # (N, T, F) normalised by train statistics
        parts[name] = (x, y.astype(np.float32), t + lo)  # y (N, H) stays in the series' units
    note = (
        f"{len(series):,} points in time order: {a:,} train, {b - a:,} validation, "
        f"{len(series) - b:,} test; {len(parts['train'][0]):,} training windows of "
        f"{cfg.window} step(s) × {len(columns)} feature(s), predicting the next {cfg.horizon}."
    )
    return ForecastData(
        config=cfg, series=series, columns=columns, target=target, unit=unit, bounds=(a, b),
        mean=mean, std=std, x_train=parts["train"][0], y_train=parts["train"][1],
        x_val=parts["val"][0], y_val=parts["val"][1], x_test=parts["test"][0],
        y_test=parts["test"][1], t_test=parts["test"][2], naive_val=naive["val"],
        naive_test=naive["test"], note=note,
    )  # fmt: skip


# ----- reports and results ----------------------------------------------------------------
@dataclass(frozen=True)
class ForecastReport(Report):
    """After one epoch: validation MAE of the model and of "repeat the last value"."""

    mae: float  # the model's validation MAE, in the series' units
    naive_mae: float  # "repeat the last value" on the same validation windows

    @property
    def score(self) -> float:
        """The naive MAE, plotted beside the model's validation MAE curve as the bar to beat."""
        return self.naive_mae


@dataclass(frozen=True)
class ForecastResults(Results):
    """Test scores in the series' units, scored once at the end."""

    mae: float  # the model's test MAE
    naive_mae: float  # "repeat the last value" on the same test windows
    windows: int  # test windows scored
    predicted: np.ndarray | None = field(default=None, metadata=DETAIL, compare=False)  # (N, H)

    @property
    def headline(self) -> tuple[str, float]:
        """Test MAE (lower is better; compare it with ``naive_mae``)."""
        return "test MAE", self.mae


# ----- the figure of the forecast over the held-out series -------------------------------
def forecast_figure(
    t: np.ndarray,
    true: np.ndarray,
    predicted: np.ndarray,
    naive: np.ndarray,
    unit: str = "",
    title: str = "",
    theme: Any = None,
) -> Any:
    """True vs predicted vs naive next values over the held-out series (a pure Plotly builder);
    ``theme`` (a ``ChartTheme``, default light) colours the true series as the page's ink."""
    import plotly.graph_objects as go

    from rnn_core.charts.palette import LIGHT, PALETTE
    from rnn_core.charts.style import styled

    fig = go.Figure()
    lines = (
        ("true", true, (theme or LIGHT).ink, 1.5, "solid"),
        ("model", predicted, PALETTE[0], 2.0, "solid"),
        ("naive: repeat the last value", naive, PALETTE[1], 1.2, "dot"),
    )
    for name, values, color, width, dash in lines:
        fig.add_trace(
            go.Scatter(
                x=np.asarray(t).tolist(), y=np.asarray(values, np.float64).tolist(), name=name,
                mode="lines", line={"color": color, "width": width, "dash": dash},
            )
        )  # fmt: skip
    label = f"value ({unit})" if unit else "value"
    fig.update_layout(
        title=title or "Forecast of the next value over the held-out test series",
        xaxis_title="time step", yaxis_title=label, height=380, hovermode="x unified",
        margin={"l": 50, "r": 10, "t": 50, "b": 40},
    )  # fmt: skip
    return styled(fig, theme or LIGHT)


# ----- the standalone Keras script's parts ------------------------------------------------
_KERAS_SINES = """\
# Data: a noisy sum of sines (the same series RNN Lab generates for this seed).
WINDOW, HORIZON, STRIDE, LENGTH, NOISE, TARGET = {window}, {horizon}, {stride}, {length}, {noise}, 0
rng = np.random.default_rng({seed})
steps = np.arange(LENGTH)
phases = rng.uniform(0, 2 * np.pi, size=3)
series = sum(
    a * np.sin(2 * np.pi * steps / p + ph)
    for a, p, ph in zip({amplitudes}, {periods}, phases)
) + NOISE * rng.standard_normal(LENGTH)
series = series[:, None]  # (L, 1)
"""
_KERAS_JENA = """\
# Data: the Jena climate CSV (Keras's weather-forecasting example), one row per hour.
from pathlib import Path

WINDOW, HORIZON, STRIDE, LENGTH = {window}, {horizon}, {stride}, {length}
folder = keras.utils.get_file(origin="{url}", extract=True)
csv = next(Path(folder).rglob("{file}"))
header = [h.strip('"') for h in open(csv).readline().strip().split(",")]
columns = header[1:] if {all_columns} else ["{target}"]
usecols = [header.index(c) for c in columns]
series = np.loadtxt(csv, delimiter=",", skiprows=1, usecols=usecols, ndmin=2)[::{hourly}]
series = series[-LENGTH:] if LENGTH else series  # (L, F)
TARGET = columns.index("{target}")
"""
_KERAS_SPLIT = """
# Split in time order: the last {test} of the series is the test set; validation_split below
# takes the last {val} of the remaining windows (Keras splits before it shuffles).
b = len(series) - round(len(series) * {test})
a = b - round(len(series) * {val})
mean, std = series[:a].mean(axis=0), series[:a].std(axis=0)  # training part only
std[std == 0] = 1.0


def cut(part):
    \"\"\"Windows of the normalised part and the next HORIZON raw target values.\"\"\"
    starts = np.arange((len(part) - WINDOW - HORIZON) // STRIDE + 1) * STRIDE
    x = (part[starts[:, None] + np.arange(WINDOW)] - mean) / std  # (N, WINDOW, F)
    y = part[starts[:, None] + WINDOW + np.arange(HORIZON), TARGET]  # (N, HORIZON)
    return x.astype("float32"), y.astype("float32")


x, y = cut(series[:b])
x_test, y_test = cut(series[b:])
"""
_KERAS_EVALUATE = """
mae = np.mean(np.abs(model.predict(x_test, verbose=0) - y_test))
last = x_test[:, -1, TARGET] * std[TARGET] + mean[TARGET]  # the last value of each window
naive = np.mean(np.abs(y_test - last[:, None]))
print(f"test MAE {mae:.4f}  naive (repeat the last value) {naive:.4f}")
"""


class ForecastTask(Task):
    """Many-to-one regression: a window of a series in, its next value(s) out."""

    info = TaskInfo(
        name="forecast",
        label="Forecast (time series)",
        rnn_type="many-to-one",
        metric="mae",
        description=(
            "The RNN reads a window of a series one value per timestep and predicts the next "
            "value(s): a noisy sum of sines, or the hourly Jena temperature. The error (MAE, in "
            "the series' units) is shown beside the naive forecast 'repeat the last value', the "
            "bar any forecaster must beat."
        ),
    )
    data_config = ForecastConfig
    report_type = ForecastReport
    results_type = ForecastResults
    files = (JENA_FILE,)
    cells = (*CELLS, "Dense")
    default_preset = "forecast-sines"
    steppable = True

    # ----- data -----
    def source_key(self, cfg: ForecastConfig) -> tuple | None:
        """Jena: the parsed CSV is shared, per file and column choice; sines: no source."""
        if cfg.source != "jena":
            return None
        return ("jena", str(resolve_data_dir(cfg.data_dir)), cfg.all_columns)

    def load_source(self, cfg: ForecastConfig) -> Any:
        """Jena: (column names, hourly values (L, F), temperature index); sines: None."""
        if cfg.source != "jena":
            return None
        return load_jena(cfg.data_dir, cfg.all_columns)

    def make_data(self, cfg: ForecastConfig, source: Any = None) -> ForecastData:
        """Generate or load the series, then split, normalise and window it."""
        _check(cfg)
        if cfg.source == "sines":
            series = sines_series(cfg.length or SINES_LENGTH, cfg.noise, cfg.seed)[
                :, None
            ]  # (L, 1)
            return make_forecast_data(cfg, series, ("value",), 0, "")
        columns, values, target = source if source is not None else self.load_source(cfg)
        return make_forecast_data(cfg, values, columns, target, "°C")

    def splits(self, data: ForecastData) -> tuple:
        """((x_train, y_train), (x_val, y_val)) for the engine."""
        return (data.x_train, data.y_train), (data.x_val, data.y_val)

    # ----- model -----
    def build(self, spec: RunSpec, data: ForecastData) -> Any:
        """Input -> RNN stack (or Dense baseline) -> Dense -> back to the series' units."""
        import keras

        from rnn_core.models import compile_model, dense, recurrent_body

        m, seed = spec.model, spec.model.seed * 1000
        _, steps, features = data.x_train.shape
        horizon = data.y_train.shape[1]
        inputs = keras.Input((steps, features), name="window")  # (B, T, F)
        h = recurrent_body(m, inputs, seed)  # (B, H): last state, or pooled over time
        z = dense(horizon, None, "next_values", seed + 500)(h)  # (B, H) normalised
        scale, offset = float(data.std[data.target]), float(data.mean[data.target])
        outputs = keras.layers.Rescaling(scale, offset, name="to_units")(z)  # (B, H) in units
        model = keras.Model(inputs, outputs, name=f"forecast_{m.cell.lower()}")
        compile_model(model, spec.train, "mse", ["mae"])
        return model

    def predict(self, model: Any, x: np.ndarray) -> np.ndarray:
        """The next value(s) after each window, in the series' units. Returns (N, H)."""
        chunks = [
            np.asarray(model.predict_on_batch(x[i : i + 2048]))  # (n, H)
            for i in range(0, len(x), 2048)
        ]
        return np.concatenate(chunks) if chunks else np.zeros((0, 1), np.float32)

    def epoch_report(self, data: ForecastData) -> Any:
        """A hook for the engine: validation MAE of the model and of the naive forecast."""

        def hook(model: Any, epoch: int) -> ForecastReport:
            return ForecastReport(mae(self.predict(model, data.x_val), data.y_val), data.naive_val)

        return hook

    def evaluate(self, model: Any, data: ForecastData) -> ForecastResults:
        """Test MAE of the model beside the naive forecast, on every test window."""
        pred = self.predict(model, data.x_test)  # (N_test, H)
        return ForecastResults(mae(pred, data.y_test), data.naive_test, len(data.y_test), pred)

    def test_figure(self, data: ForecastData, predicted: np.ndarray, theme: Any = None) -> Any:
        """The first predicted value of every test window against the truth and the naive."""
        name = data.columns[data.target]
        return forecast_figure(
            data.t_test, data.y_test[:, 0], predicted[:, 0], data.last_value(data.x_test),
            data.unit, f"Next value of {name!r} over the held-out test series", theme,
        )  # fmt: skip

    # ----- export -----
    def keras_code(self, spec: RunSpec) -> KerasCode:
        """The series, a time-ordered split, RNN stack -> Dense, MAE beside the naive one."""
        from rnn_core.export import body_lines

        d = spec.data
        common = {"window": d.window, "horizon": d.horizon, "stride": d.stride}
        if d.source == "sines":
            data = _KERAS_SINES.format(
                **common, length=d.length or SINES_LENGTH, noise=d.noise, seed=d.seed,
                amplitudes=SINE_AMPLITUDES, periods=SINE_PERIODS,
            )  # fmt: skip
        else:
            data = _KERAS_JENA.format(
                **common, length=d.length, url=JENA_URL, file=JENA_FILE,
                all_columns=d.all_columns, target=JENA_TARGET, hourly=JENA_HOURLY,
            )  # fmt: skip
        data += _KERAS_SPLIT.format(test=d.test_fraction, val=d.val_fraction)
        lines = ["inputs = keras.Input(x.shape[1:])", "h = inputs", *body_lines(spec)]
        lines.append("h = keras.layers.Dense(HORIZON)(h)")
        lines.append("outputs = keras.layers.Rescaling(std[TARGET], mean[TARGET])(h)  # units")
        return KerasCode(data, tuple(lines), "mse", _KERAS_EVALUATE)

    # ----- stepper -----
    def stepper_choices(self, data: ForecastData, limit: int) -> list[str]:
        """ "#i: steps a-b → next value" for the first ``limit`` test windows."""
        n, steps = min(limit, len(data.x_test)), data.x_test.shape[1]
        return [
            f"#{i}: steps {t - steps}–{t - 1} → step {t} ({data.y_test[i, 0]:.2f} {data.unit})"
            for i, t in enumerate(data.t_test[:n].tolist())
        ]

    def stepper_input(self, model: Any, data: ForecastData, index: int, top: int) -> dict:
        """The RNN reads test window ``index``, one (normalised) value per timestep."""
        x = np.asarray(data.x_test[index], np.float32)  # (T, F) normalised window
        raw = x[:, data.target] * data.std[data.target] + data.mean[data.target]  # (T,)
        guess = float(self.predict(model, x[None])[0, 0])
        truth, last = float(data.y_test[index, 0]), float(raw[-1])
        kernel = np.asarray(model.get_layer("next_values").get_weights()[0])  # (H_top, horizon)
        u = f" {data.unit}" if data.unit else ""
        feats = f"{x.shape[1]} normalised weather readings" if x.shape[1] > 1 else "one number"
        return {
            "x": x,
            "labels": tuple(f"{v:.2f}" for v in raw),
            "label_kind": "step",
            "span": (0, len(x)),
            "readout": kernel[:, 0] * float(data.std[data.target]),  # d forecast / d h_T
            "readout_text": "the forecast of the next value (the Dense head applied to h_T)",
            "prediction": f"Next value: the model forecasts **{guess:.3f}{u}**; true "
            f"{truth:.3f}{u}; the naive forecast (repeat the last value) says {last:.3f}{u}.",
            "note": f"One step of the series per timestep: {feats} per step, normalised with "
            f"the training part's mean and standard deviation (labels show the raw values).",
        }
