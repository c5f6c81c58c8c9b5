"""The NumPy RNN the stepper walks through, and what it measures."""

from rnn_core.stepper.gradient_lens import logit_gradients, logit_lens

__all__ = ["logit_gradients", "logit_lens"]
