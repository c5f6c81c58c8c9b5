"""RNN Lab core: data, models, training engine and charts for learning recurrent networks.

Importing this package is cheap: TensorFlow is imported only by the modules that build or
train Keras models (``models``, ``training``, ``tasks``), never by the package itself.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ start-up chatter quiet

__version__ = "0.1.0"
