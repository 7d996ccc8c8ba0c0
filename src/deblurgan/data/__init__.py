"""Datasets: building paired blurred/sharp data on disk."""
