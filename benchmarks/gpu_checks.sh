#!/usr/bin/env bash
# The GPU figures of benchmarks/RESULTS.md ("On a GPU") in one run, for a machine with CUDA (about 7 minutes on an H100).
# Run from anywhere with gan_course installed and MNIST where the loader finds it (GAN_COURSE_DATA as an absolute path).
# PEAK_TFLOPS: the card's dense TF32 peak (494.7 for an H100 or H200 SXM), for the share-of-peak line.
set -euo pipefail
cd "$(dirname "$0")"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
python -c "import torch, fastai; print('torch', torch.__version__, 'fastai', fastai.__version__)"
python train_speed.py --device cuda --images 60000 --peak-tflops "${PEAK_TFLOPS:-494.7}"
python host_overhead.py --device cuda
python step_profile.py --device cuda --top 15
python step_profile.py --device cuda --bare --top 5
python train_options.py --device cuda --images 60000
