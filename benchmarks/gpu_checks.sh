#!/usr/bin/env bash
# Every CUDA check and measurement of the fast engine, in one run of a few minutes (about 7
# typically; the per-step timeouts add up to 17).
#
#     bash benchmarks/gpu_checks.sh [OUT_DIR]        # from the repository root, venv active
#
# 1. the CUDA tests (fused vs reference, CUDA-graph training step vs eager, padding, graph trace);
# 2. bench_ntm.py on CUDA: reference, fused and fused + CUDA graph against a bare LSTM,
#    B = 8 .. 8192;
# 3. a copy trace of L = 120 on CPU and on CUDA (eager and CUDA graph);
# 4. a short recipe sweep (batch size x learning rate, seed 0, 20 s each) for GPU_RECIPE;
# 5. bench_convergence.py --device cuda: 5 seeds of the fast engine, 1 of the previous default.
# Each step's output goes to OUT_DIR (default: gpu_checks_out/) and to the terminal.
set -u
OUT=${1:-gpu_checks_out}
mkdir -p "$OUT"
if ! python -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    echo "gpu_checks: no CUDA device here; nothing to check"
    exit 0
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/card.txt"
python -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)" | tee -a "$OUT/card.txt"
uptime | tee -a "$OUT/card.txt"

echo "== 1. CUDA tests"
timeout 180 python -m pytest -p no:cacheprovider -q -rs tests/test_fused_cuda.py 2>&1 | tee "$OUT/tests.txt"

echo "== 2. forward+backward against a bare LSTM"
timeout 240 python benchmarks/bench_ntm.py --device cuda --quick 2>&1 | tee "$OUT/bench_ntm_cuda.txt"

echo "== 3. trace of a copy sequence, L = 120"
timeout 120 python - <<'EOF' 2>&1 | tee "$OUT/trace.txt"
import statistics, time
import torch
from ntm import NTM, NTMConfig, cuda_graphs
torch.manual_seed(0)
model = NTM(NTMConfig())
L = 120
x = torch.zeros(2 * L + 1, 1, 9)
x[:L, 0, :8] = torch.randint(0, 2, (L, 8)).float()
x[L, 0, 8] = 1
def timed(fn, n=5):
    fn()
    ts = []
    for _ in range(n):
        start = time.perf_counter(); fn(); torch.cuda.synchronize(); ts.append(time.perf_counter() - start)
    return statistics.median(ts) * 1000
cpu = timed(lambda: model.trace(x))
gpu_model, xg = NTM(NTMConfig()).cuda(), x.cuda()
gpu_model.load_state_dict(model.state_dict())
graph = timed(lambda: gpu_model.trace(xg))
real = cuda_graphs.graphed_trace_records
cuda_graphs.graphed_trace_records = lambda *a: None
eager = timed(lambda: gpu_model.trace(xg))
cuda_graphs.graphed_trace_records = real
a, b = model.trace(x), gpu_model.trace(xg)
diff = abs(a.logits - b.logits).max()
print(f"| trace, copy L = {L} (T = {2 * L + 1}) | CPU | CUDA eager | CUDA graph |")
print("|---|---:|---:|---:|")
print(f"| ms | {cpu:.0f} | {eager:.0f} | {graph:.0f} |")
print(f"largest logit difference CPU vs CUDA graph: {diff:.2e}")
EOF

echo "== 4. recipe sweep for GPU_RECIPE (seed 0, 20 s each)"
timeout 150 python - <<'EOF' 2>&1 | tee "$OUT/recipe_sweep.txt"
import tempfile
from ntm.training import cli
tmp = tempfile.mkdtemp()
print("| batch | lr | status | wall s | sequences | held-out bit errors |")
print("|---:|---:|---|---:|---:|---:|")
for batch, lr in [(32, "1e-3"), (128, "2e-3"), (512, "3e-3")]:
    r = cli.train(["--task", "copy", "--seed", "0", "--device", "cuda", "--no-progress",
                   "--max-seconds", "20", "--max-sequences", "0", "--force",
                   "--batch-size", str(batch), "--lr", lr, "--output", f"{tmp}/b{batch}.pt"])
    errors = r["curve"][-1]["bit_errors"] if r["curve"] else float("nan")
    print(f"| {batch} | {lr} | {r['status']} | {r['wall_time']:.1f} | {r['sequences_seen']} | {errors:.3f} |",
          flush=True)
EOF

echo "== 5. copy convergence on CUDA"
timeout 330 python benchmarks/bench_convergence.py --device cuda --skip-paper --seeds 0,1,2,3,4 \
    --previous-seeds 0 --cap 40 --throughput-seconds 5 2>&1 | grep -v "held-out" | tee "$OUT/convergence_cuda.txt"
uptime | tee -a "$OUT/card.txt"
