"""Training engine: jobs, runners (thread, child process), slots and budgets."""
