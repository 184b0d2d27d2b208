"""Reporting: the run report (``report``), Markdown tables (``tables``) and plots (``plots``)."""
