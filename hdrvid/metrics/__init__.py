"""Quality and stability metrics."""
