#!/usr/bin/env bash
# Train the model only when its inputs changed (tools/model_fingerprint.py).
# The model is models/clonazepam-<fingerprint>.tar.gz; the training log goes to
# results/logs/train-<fingerprint>.log (it is long: progress bars).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
fp=$($PY -m tools.model_fingerprint)
model="models/clonazepam-${fp}.tar.gz"
if [ -f "$model" ]; then
  echo "Model is up to date: $model"
  exit 0
fi
mkdir -p models results/logs
log="results/logs/train-${fp}.log"
echo "Training $model (log: $log) ..."
start=$(date +%s)
if ! RASA_TELEMETRY_ENABLED=false .venv/bin/rasa train --fixed-model-name "clonazepam-${fp}" --out models >"$log" 2>&1; then
  echo "Training failed. The last lines of $log:" >&2
  grep -v -e "Epochs:" -e "Processed" "$log" | tail -n 30 >&2
  exit 1
fi
end=$(date +%s)
echo "Trained $model in $((end - start)) s ($(du -h "$model" | cut -f1))."
printf '{"model": "%s", "seconds": %d, "bytes": %d}\n' "$model" "$((end - start))" "$(stat -c %s "$model")" > results/train.json
