"""Integrations with the training frameworks yoloprune plugs into (Ultralytics)."""
