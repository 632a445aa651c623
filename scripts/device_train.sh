#!/bin/bash
# One timed training run of the default model on a CUDA machine.
#
# On your own machine, once (the photos go into an ignored folder; they never enter the project):
#   python scripts/make_training_mix.py ../shared/datasets runs/mix-v4   # if runs/mix-v4 is missing
#   python scripts/pack_for_device.py runs/mix-v4/train runs/device/train
# Copy the repository with runs/device to the GPU machine, run there from its root:
#   MINUTES=60 OUT=/tmp/gpu-out bash scripts/device_train.sh
# copy $OUT back, and score it on the validation split, each snapshot alone, blended with
# the start and the mean, at equal colourfulness with paired intervals:
#   python bench/compare_models.py runs/mix-v4/val weights/cgan-default.safetensors FILES...
#
# It starts from the shipped net without its colour gain (the gain is chosen again on
# validation), trains for MINUTES of wall time, stops with Ctrl+C's clean stop (a
# checkpoint is saved), and writes to $OUT: the last four snapshots, their mean
# (stochastic weight averaging), the training log and the last preview. To try the
# script on a CPU: DEVICE=cpu BATCH=4 WORKERS=0 EVERY=10 MINUTES=1
# TRAIN_ARGS="--max-images 120" PYTHON=.venv/bin/python OUT=/tmp/dt bash scripts/device_train.sh
#
# Environment (defaults): MINUTES (7), PYTHON (python3, which must have torch), OUT
# (/tmp/colorizer-device-out), DATA (runs/device/train), DEVICE (cuda), BATCH (64),
# WORKERS (14 processes prepare and age the photos; leave two cores free), LR (1e-4),
# EVERY (500 steps between snapshots), SEED (20), TRAIN_ARGS (more options for
# `python -m training`, e.g. "--size 256", or "--lr-schedule cosine --l1-epochs N" for
# a rate that reaches 0 at the run's end: size N to the minutes from a first run's
# speed; a later --l1-epochs wins over the script's own).
set -u
PY=${PYTHON:-python3}
OUT=${OUT:-/tmp/colorizer-device-out}
DATA=${DATA:-runs/device/train}
WORK=$(mktemp -d /tmp/colorizer-device.XXXXXX)
MINUTES=${MINUTES:-7}
mkdir -p "$OUT"
if [ ! -d "$DATA" ]; then
    echo "no training photos in $DATA: pack them first (scripts/pack_for_device.py) and copy runs/device with the repository" >&2
    exit 2
fi
command -v nvidia-smi > /dev/null && nvidia-smi -L
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" || exit 2

# The shipped net with gain 1: training fits the raw colours.
"$PY" scripts/ship_default_model.py weights/cgan-default.safetensors --ab-gain 1.0 \
    --objective "start of a GPU run" --trained-by "scripts/device_train.sh" \
    --out "$WORK/init.safetensors" || exit 2

# SIGINT = the trainer's clean stop (it finishes the step and saves a checkpoint);
# a second signal 60 s later ends it for good.
timeout -s INT -k 60 "$((MINUTES * 60))" "$PY" -m training "$DATA" \
    --out "$WORK/best.safetensors" --init "$WORK/init.safetensors" \
    --size 192 --batch-size "${BATCH:-64}" --lr-l1 "${LR:-1e-4}" --l1-epochs 100000 --gan-epochs 0 \
    --hints --degrade --keep-toned \
    --device "${DEVICE:-cuda}" --workers "${WORKERS:-14}" --seed "${SEED:-20}" \
    --snapshots --eval-every "${EVERY:-500}" --checkpoint-every "${EVERY:-500}" \
    --run-dir "$WORK/run" ${TRAIN_ARGS:-} > "$WORK/train.log" 2>&1
status=$?
# tqdm redraws its bars with carriage returns: keep every other line, and the last 5 bars.
BAR="[0-9]+/[0-9]+ \\[[0-9:]+<"
tr '\r' '\n' < "$WORK/train.log" | grep -v '^\s*$' > "$WORK/lines.txt"
{ grep -vE "$BAR" "$WORK/lines.txt"; grep -E "$BAR" "$WORK/lines.txt" | tail -n 5; } > "$OUT/train-log.txt"
echo "training ended with status $status (124 or 130: stopped at the time limit, as planned)"

mapfile -t last < <(ls "$WORK/run/snapshots/"*.safetensors 2>/dev/null | sort | tail -n 4)
if [ "${#last[@]}" -eq 0 ]; then
    echo "no snapshot was written; see $OUT/train-log.txt" >&2
    exit 1
fi
cp "${last[@]}" "$OUT/"
if [ "${#last[@]}" -ge 2 ]; then
    "$PY" -m training.interpolate "${last[@]}" --mean --out "$OUT/mean-last${#last[@]}.safetensors"
fi
cp "$WORK/run/preview_latest.png" "$OUT/" 2>/dev/null
ls -la "$OUT"
