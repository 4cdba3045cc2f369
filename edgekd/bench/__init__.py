"""Benchmarks a user runs: latency, MACs, size and accuracy per format (``edgekd bench``)."""
