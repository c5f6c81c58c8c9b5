"""Entry point for ``python -m rnn_core``."""

from rnn_core.cli import main

raise SystemExit(main())
