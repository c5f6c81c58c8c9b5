"""Keras model builders: one recurrent-layer factory shared by every task's architecture."""

from __future__ import annotations

from typing import Any

import keras

from rnn_core.config import CELLS, ModelConfig, TrainConfig

_CELL_CLASSES = {
    "SimpleRNN": keras.layers.SimpleRNN,
    "LSTM": keras.layers.LSTM,
    "GRU": keras.layers.GRU,
}
MAX_UNROLL = 100  # timesteps an unrolled RNN may have: each one is a copy of the cell in the graph


def check_unroll(cfg: ModelConfig, steps: int | None) -> None:
    """Refuse ``cfg.unroll`` unless every sequence has the same, short length (<= MAX_UNROLL)."""
    if not cfg.unroll or cfg.cell not in _CELL_CLASSES:
        return
    if steps is None:
        raise ValueError(
            "unroll needs sequences of one fixed length, and this model reads sequences of "
            "any length: turn off Unroll"
        )
    if steps > MAX_UNROLL:
        raise ValueError(
            f"unroll writes out one copy of the cell per timestep: at most {MAX_UNROLL} "
            f"timesteps, this model reads {steps} (turn off Unroll)"
        )


def recurrent_layer(
    cfg: ModelConfig, return_sequences: bool, name: str, seed: int, bidirectional: bool = False
) -> keras.layers.Layer:
    """One SimpleRNN/LSTM/GRU layer whose initializers and dropout are seeded per model."""
    if cfg.cell not in _CELL_CLASSES:
        raise ValueError(f"cell must be one of {', '.join(CELLS)}, got {cfg.cell!r}")
    layer = _CELL_CLASSES[cfg.cell](
        cfg.units,
        return_sequences=return_sequences,
        dropout=cfg.dropout,
        kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
        recurrent_initializer=keras.initializers.Orthogonal(seed=seed + 1),
        seed=seed + 2,
        unroll=cfg.unroll,
        name=name,
    )
    if bidirectional:
        return keras.layers.Bidirectional(layer, name=f"bi_{name}")
    return layer


def dense(units: int, activation: str | None, name: str, seed: int) -> keras.layers.Dense:
    """A Dense layer with a seeded kernel initializer."""
    init = keras.initializers.GlorotUniform(seed=seed)
    return keras.layers.Dense(units, activation=activation, kernel_initializer=init, name=name)


def build_seq2seq(cfg: ModelConfig, input_len: int, vocab: int, output_len: int) -> keras.Model:
    """Encoder RNN(s) -> RepeatVector -> decoder RNN(s) -> TimeDistributed Dense (addition)."""
    if cfg.layers < 1:
        raise ValueError("layers must be at least 1")
    check_unroll(cfg, max(input_len, output_len))
    seed = cfg.seed * 1000
    inputs = keras.Input((input_len, vocab), name="question")  # (B, T_in, V)
    h = inputs
    for i in range(cfg.layers):  # all but the last encoder layer return sequences
        last = i == cfg.layers - 1
        h = recurrent_layer(cfg, not last, f"encoder_{i + 1}", seed + 10 * i, cfg.bidirectional)(h)
    h = keras.layers.RepeatVector(output_len, name="repeat")(h)  # (B, T_out, H)
    for i in range(cfg.layers):  # the decoder emits one vector per answer character
        h = recurrent_layer(cfg, True, f"decoder_{i + 1}", seed + 100 + 10 * i)(h)  # (B, T_out, H)
    head = dense(vocab, "softmax", "char_probs", seed + 500)
    outputs = keras.layers.TimeDistributed(head, name="per_char")(h)  # (B, T_out, V)
    return keras.Model(inputs, outputs, name=f"addition_{cfg.cell.lower()}")


def recurrent_body(cfg: ModelConfig, h: Any, seed: int) -> Any:
    """The Dense baseline (flatten, Dense layers) or the RNN stack read by ``cfg.pooling``.

    ``h`` is the (B, T, F) sequence; returns the vector a head reads: the top RNN layer's last
    state, or the max or mean of its outputs over time (B, H), or both side by side (B, 2H).
    """
    if cfg.cell == "Dense":  # the seed's non-recurrent baseline: flatten every timestep
        h = keras.layers.Flatten(name="flatten")(h)  # (B, T*F)
        for i in range(cfg.layers):
            h = dense(cfg.units, "relu", f"dense_{i + 1}", seed + 10 * i)(h)  # (B, units)
        return h
    check_unroll(cfg, h.shape[1])
    pooled = cfg.pooling != "last"  # pooling reads every output of the last layer
    for i in range(cfg.layers):
        seqs = pooled or i < cfg.layers - 1
        layer = recurrent_layer(cfg, seqs, f"rnn_{i + 1}", seed + 10 * i, cfg.bidirectional)
        h = layer(h)  # (B, T, H) when returning sequences, else (B, H)
    if cfg.pooling == "max":
        h = keras.layers.GlobalMaxPooling1D(name="max_over_time")(h)  # (B, H)
    elif cfg.pooling == "mean":
        h = keras.layers.GlobalAveragePooling1D(name="mean_over_time")(h)  # (B, H)
    elif cfg.pooling == "max+mean":  # each unit's maximum, then its mean, side by side
        top = keras.layers.GlobalMaxPooling1D(name="max_over_time")(h)  # (B, H)
        avg = keras.layers.GlobalAveragePooling1D(name="mean_over_time")(h)  # (B, H)
        h = keras.layers.Concatenate(name="max_and_mean")([top, avg])  # (B, 2H)
    return h


def build_sequence_classifier(
    cfg: ModelConfig,
    input_shape: tuple[int, ...],
    classes: int,
    vocab_size: int | None = None,
    per_step: int = 1,
) -> keras.Model:
    """Optional Embedding -> stacked RNN (or the Dense baseline) -> Dense classifier head.

    ``per_step`` > 1 (with an Embedding): the RNN reads that many word vectors per timestep,
    side by side (T must be a multiple of it).
    """
    seed = cfg.seed * 1000
    inputs = keras.Input(input_shape, name="sequence")  # (B, T) ids or (B, T, F) features
    h = inputs
    if vocab_size is not None:
        emb_init = keras.initializers.RandomUniform(-0.05, 0.05, seed=seed + 900)
        h = keras.layers.Embedding(
            vocab_size, cfg.embedding_dim, embeddings_initializer=emb_init, name="embedding"
        )(h)  # (B, T, E)
        if per_step > 1:
            width = per_step * cfg.embedding_dim
            h = keras.layers.Reshape((-1, width), name="words_per_step")(h)  # (B, T/k, k*E)
    h = recurrent_body(cfg, h, seed)  # (B, H)
    if classes == 2:
        outputs = dense(1, "sigmoid", "probability", seed + 500)(h)  # (B, 1)
    else:
        outputs = dense(classes, "softmax", "class_probs", seed + 500)(h)  # (B, C)
    return keras.Model(inputs, outputs, name=f"classifier_{cfg.cell.lower()}")


def make_optimizer(cfg: TrainConfig) -> keras.optimizers.Optimizer:
    """The optimizer named in the training config, at its learning rate."""
    makers = {
        "adam": keras.optimizers.Adam,
        "rmsprop": keras.optimizers.RMSprop,
        "sgd": keras.optimizers.SGD,
        "adamw": keras.optimizers.AdamW,
    }
    if cfg.optimizer not in makers:
        raise ValueError(f"optimizer must be one of {', '.join(makers)}, got {cfg.optimizer!r}")
    if not 0 < cfg.learning_rate <= 10:
        raise ValueError(f"learning rate must be in (0, 10], got {cfg.learning_rate}")
    return makers[cfg.optimizer](learning_rate=cfg.learning_rate)


def compile_model(model: keras.Model, cfg: TrainConfig, loss: str, metrics: list[str]) -> None:
    """Compile with the configured optimizer, batches per call and XLA setting."""
    model.compile(
        optimizer=make_optimizer(cfg),
        loss=loss,
        metrics=metrics,
        jit_compile=cfg.jit_compile,
        steps_per_execution=cfg.steps_per_execution,
    )
