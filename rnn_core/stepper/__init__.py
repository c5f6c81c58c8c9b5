"""The NumPy RNN the stepper walks through, and what it measures."""
