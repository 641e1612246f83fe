"""Forward+backward speed of the NTM against a bare LSTM of the same size (benchmark, not a test).

    python benchmarks/bench_ntm.py                  # CPU (1 thread), and CUDA when present
    python benchmarks/bench_ntm.py --quick          # fewer repeats
    python benchmarks/bench_ntm.py --device cuda --batches 8,128,2048,8192

Copy-shaped input: L = 20 bit vectors, a delimiter and L blank steps (T = 41, 9 channels),
N = 128, M = 20, an LSTM controller of 100 units, one read and one write head; the loss is the
BCE of the last 20 outputs. The models run the same batch, interleaved, in one process:

* the NTM on the reference engine (``model.fast = False``: ntm.addressing / ntm.memory),
* the NTM on the fused engine (``model.fast = True``, the default: ntm.fused), on a CPU three
  ways: the whole run as one autograd Function over the C step (ntm.sequence, the default where
  a C compiler is present), each step recorded in autograd around the C step
  (``ntm.sequence.enabled = False``), and tensor operations only (``ntm.native.enabled = False``),
* a bare ``nn.LSTMCell`` loop of the same size whose "read vector" is a zero tensor, with the
  same output layer: the floor an NTM of this size could reach.

Each cell is the median over the repeats of sequences per second (forward + backward). On a
CPU with the C loops built, a second table times the C memory step alone (best of the repeats,
with the build's CPU flags). On CUDA the fused engine is also timed with forward + backward
captured in one CUDA graph (``ntm.cuda_graphs``): the way training runs there. Timings are
wall-clock; print ``uptime`` beside them on a shared machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch

from ntm import NTM, NTMConfig, fused, native, sequence

CONFIG = NTMConfig(memory_rows=128, memory_width=20, controller_size=100)
T, SCORED = 41, 20


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def ntm_step(batch: int, device: str, fast: bool, c_loops: bool = True, whole_run: bool = True):
    torch.manual_seed(0)
    model = NTM(CONFIG).to(device)
    model.fast = fast
    x = torch.rand(T, batch, 9, device=device).round()
    target = torch.rand(SCORED, batch, 8, device=device).round()
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def step():
        native.enabled, sequence.enabled = c_loops, whole_run
        model.zero_grad(set_to_none=True)
        loss_fn(model(x)[T - SCORED:], target).backward()
        native.enabled = sequence.enabled = True
    return step


def lstm_step(batch: int, device: str):
    """The floor: an LSTMCell loop reading a zero 'read vector', the NTM's output layer."""
    torch.manual_seed(0)
    m = CONFIG.memory_width
    cell = torch.nn.LSTMCell(CONFIG.input_size + m, CONFIG.controller_size).to(device)
    out = torch.nn.Linear(CONFIG.controller_size + m, CONFIG.output_size).to(device)
    x = torch.rand(T, batch, 9, device=device).round()
    target = torch.rand(SCORED, batch, 8, device=device).round()
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def step():
        cell.zero_grad(set_to_none=True)
        out.zero_grad(set_to_none=True)
        h = torch.zeros(batch, CONFIG.controller_size, device=device)
        c, r, ys = torch.zeros_like(h), torch.zeros(batch, m, device=device), []
        for x_t in x:
            h, c = cell(torch.cat([x_t, r], -1), (h, c))
            ys.append(out(torch.cat([h, r], -1)))
        loss_fn(torch.stack(ys)[T - SCORED:], target).backward()
    return step


def graphed_step(batch: int, device: str):
    """The fused engine's forward + backward replayed from one CUDA graph."""
    from ntm.cuda_graphs import capture_forward_backward

    torch.manual_seed(0)
    model = NTM(CONFIG).to(device)
    x = torch.rand(T, batch, 9, device=device).round()
    target = torch.rand(SCORED, batch, 8, device=device).round()
    loss_fn = torch.nn.BCEWithLogitsLoss()
    graph = capture_forward_backward(model, lambda: loss_fn(model(x)[T - SCORED:], target))
    return graph.replay


CLOCKS = {"wall": time.perf_counter, "process": time.process_time}


def measure(steps: dict, batch: int, repeats: int, device: str, clock=time.perf_counter) -> dict:
    """Median sequences/s of each step function, timed in turn (interleaved)."""
    times: dict[str, list[float]] = {name: [] for name in steps}
    for fn in steps.values():  # warm up (allocator, caches)
        fn(), fn()
    sync(device)
    for _ in range(repeats):
        for name, fn in steps.items():
            start = clock()
            fn()
            sync(device)
            times[name].append(clock() - start)
    return {name: batch / statistics.median(ts) for name, ts in times.items()}


def table(device: str, batches: list[int], repeats: int, clock=time.perf_counter) -> None:
    graphs = device.startswith("cuda")
    c_loops = not graphs and native.library() is not None
    fast = (["fast (whole run, C)", "fast (per step, C)", "fast (tensor ops)"] if c_loops
            else ["fast"])
    extra = ["fast + CUDA graph"] if graphs else []
    names = ["reference", *fast, *extra]
    print("| where | batch | " + " | ".join(f"{n} seq/s" for n in names) + " | bare LSTM seq/s | "
          + " | ".join(f"{n} / LSTM time" for n in names) + " |")
    print("|---|---|" + "---:|" * (2 * len(names) + 1))
    for b in batches:
        steps = {"reference": ntm_step(b, device, fast=False)}
        steps.update({n: ntm_step(b, device, fast=True, c_loops=n != "fast (tensor ops)",
                                  whole_run=n == "fast (whole run, C)") for n in fast})
        steps["lstm"] = lstm_step(b, device)
        if graphs:
            steps["fast + CUDA graph"] = graphed_step(b, device)
        if not graphs and b >= 128:
            steps.pop("reference")  # minutes on a CPU; the ratio is in the smaller rows
        rate = measure(steps, b, repeats if b <= 2048 else max(3, repeats // 2), device, clock)
        cells = [device_name(device), str(b)]
        cells += [f"{rate[n]:,.1f}" if n in rate else "-" for n in names]
        cells += [f"{rate['lstm']:,.1f}"]
        cells += [f"{rate['lstm'] / rate[n]:.1f}×" if n in rate else "-" for n in names]
        print("| " + " | ".join(cells) + " |", flush=True)


def c_step_table(batches: list[int], repeats: int) -> None:
    """The C memory step alone (``ntm.native.forward`` / ``backward``) at copy's sizes: the part
    of the NTM's step that its C loops compute, in microseconds per call and per sequence."""
    print("| C memory step alone | batch | forward µs | backward µs | µs per sequence (fwd + bwd) |")
    print("|---|---:|---:|---:|---:|")
    n, m = CONFIG.memory_rows, CONFIG.memory_width
    layout = fused.Layout(CONFIG.read_heads, CONFIG.write_heads, m, 2 * CONFIG.shift_range + 1)
    heads, shifts = layout.read_heads + layout.write_heads, layout.shift_width
    for b in batches:
        g = torch.Generator().manual_seed(0)
        raw = torch.randn(b, heads * sum(layout.sizes) + layout.write_heads * 2 * m, generator=g)
        memory = torch.randn(b, n, m, generator=g) * 0.5
        previous = torch.softmax(torch.randn(b, heads, n, generator=g) * 3, -1)
        grads = (torch.randn(b, layout.read_heads, m), torch.randn(b, n, m),
                 torch.randn(b, heads, n))
        kept = native.forward(raw, memory, previous, layout.read_heads, shifts)[3]
        fwd, bwd = [], []
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(50):
                kept = native.forward(raw, memory, previous, layout.read_heads, shifts)[3]
            mid = time.perf_counter()
            for _ in range(50):
                native.backward(kept, *grads)
            fwd.append((mid - start) / 50 * 1e6)
            bwd.append((time.perf_counter() - mid) / 50 * 1e6)
        f, w = min(fwd), min(bwd)
        print(f"| {' '.join(native.cpu_flags()) or 'portable'} | {b} | {f:.0f} | {w:.0f} | {(f + w) / b:.1f} |")


def device_name(device: str) -> str:
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    return f"CPU, {torch.get_num_threads()} thread{'s' if torch.get_num_threads() > 1 else ''}"


def load() -> str:
    try:
        return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "load average unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--device", default="auto",
                        help="cpu, cuda, or auto: the CPU, then CUDA when present")
    parser.add_argument("--batches", help="CPU default 1,8,32,128; CUDA 8,128,2048,8192")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                        help="wall: elapsed time; process: this process's CPU time (with one "
                             "thread, what the wall time would be on an idle machine)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    repeats = 3 if args.quick else 7
    devices = [args.device] if args.device != "auto" else (
        ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, {load()}, {args.clock} clock")
    if args.device == "auto" and not torch.cuda.is_available():
        print("(no CUDA device here: CPU rows only)")
    print()
    for device in devices:
        default = "8,128,2048,8192" if device.startswith("cuda") else "1,8,32,128"
        table(device, [int(s) for s in (args.batches or default).split(",")], repeats,
              CLOCKS[args.clock])
        print(f"\n({load()})\n")
        if device == "cpu" and native.library() is not None:
            c_step_table([int(s) for s in (args.batches or default).split(",")], repeats)
            print()


if __name__ == "__main__":
    main()
