# Two commands on a fresh machine: `make demo` (offline end-to-end demo) and `make test`.
# Both build .venv from the project's own pinned files (constraints.txt) first.
PY ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
CONVERGED := benchmarks/results/progressive_vs_oneshot_converged/runs
# the 10-epoch arms of both models, every one from the converged dense start of its model
FROM_CONVERGED := $(VENV)/bin/python benchmarks/progressive_vs_oneshot.py --models yolov8n.yaml,yolo11n.yaml \
	--epochs 10 --start $(CONVERGED)/yolov8n-pretrain/weights/best.pt,$(CONVERGED)/yolo11n-pretrain/weights/best.pt

$(STAMP): pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade "pip==26.3"
	$(VENV)/bin/pip install -q -c constraints.txt -e ".[export,dev]"
	touch $(STAMP)

.PHONY: setup demo test bench
setup: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/yolo-prune demo

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q tests

bench: $(STAMP)
	$(VENV)/bin/python benchmarks/cpu_training_speed.py --out benchmarks/results/cpu_training_speed.json
	$(VENV)/bin/python benchmarks/shapes_baseline.py --out benchmarks/results/shapes_baseline.json
	$(VENV)/bin/python benchmarks/prune_table.py
	# issue 3: every arm starts from a converged dense model (30 epochs, ~0.80) and trains 10 more epochs;
	# pruned arms with the default criterion (taylor), then progressive and one-shot again with l2 magnitude
	$(VENV)/bin/python benchmarks/progressive_vs_oneshot.py --models yolov8n.yaml,yolo11n.yaml --pretrain 30 \
		--epochs 10 --arms dense,progressive,progressive+continue,oneshot,progressive+distill \
		--out benchmarks/results/progressive_vs_oneshot_converged
	$(FROM_CONVERGED) --arms progressive,oneshot --prune criterion=l2 --out benchmarks/results/progressive_vs_oneshot_converged_l2
	# distillation weight 3, and the seed spread: dense and that arm again with another seed (same start)
	$(FROM_CONVERGED) --arms progressive+distill --prune distill_weight=3 --out benchmarks/results/progressive_vs_oneshot_dw3
	for s in 1 2; do $(FROM_CONVERGED) --arms dense,progressive+distill --prune distill_weight=3 --set seed=$$s \
		--out benchmarks/results/progressive_vs_oneshot_seed$$s; done
	$(VENV)/bin/python benchmarks/progressive_vs_oneshot.py --out benchmarks/results/progressive_vs_oneshot_converged --merge \
		$(patsubst %,benchmarks/results/progressive_vs_oneshot_%/results.json,converged converged_l2 dw3 seed1 seed2)
	# which criterion keeps the most of a trained model right after pruning
	for m in yolov8n yolo11n; do $(VENV)/bin/python benchmarks/criteria_sweep.py \
		--model $(CONVERGED)/$$m-pretrain/weights/best.pt --out benchmarks/results/criteria_sweep_$$m; done
