"""Latency profiling for pruning: timing models side by side (``timing``), latency tables measured on this
machine (``profile``) and device kits that measure them elsewhere and merge back (``kit``). The standalone
script those kits ship (``device/device_bench.py``) is package data: it runs without yoloprune installed."""
