"""Latency profiling for pruning: what a profile measures (``config``), timing models side by side (``timing``),
pruned variants and their timer (``variants``), the parts of a latency table a local profile and a device kit
share (``tables``), latency tables measured on this machine (``profile``) and device kits that measure them
elsewhere and merge back (``kit``). The standalone script those kits ship (``device/device_bench.py``) is
package data: it runs without yoloprune installed."""
