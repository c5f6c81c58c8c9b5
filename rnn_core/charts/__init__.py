"""Plotly figure builders: pure functions from plain data to figures."""
