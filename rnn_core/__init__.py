"""RNN Lab core: data, models, training engine and charts for learning recurrent networks.

Importing this package is cheap: TensorFlow is imported only by the modules that build or
train Keras models (``models``, ``training``, ``tasks``), never by the package itself.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ start-up chatter quiet

__version__ = "0.1.0"


def __getattr__(name: str):  # noqa: ANN202
    """``rnn_core.logit_gradients``: the gradient lens, imported on first use (NumPy only)."""
    if name == "logit_gradients":
        from rnn_core.stepper.gradient_lens import logit_gradients

        return logit_gradients
    raise AttributeError(f"module 'rnn_core' has no attribute {name!r}")
