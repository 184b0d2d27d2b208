"""Deployment benchmarks: latency, size and mAP of the dense and the pruned model in every format, timed side
by side (``benchmark``, configured by ``config.BenchmarkConfig``), what ``benchmark.json`` holds
(``report``), and device bundles for the runtimes this machine cannot run (``bundle``)."""
