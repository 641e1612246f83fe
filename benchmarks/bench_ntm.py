"""Forward+backward throughput of the NTM on copy-shaped input, and one `address` call's latency.

    python benchmarks/bench_ntm.py            # the README table
    python benchmarks/bench_ntm.py --quick    # fewer repeats

Copy-shaped input: L = 20 bit vectors, a delimiter and L blank steps (T = 41, 9 channels),
N = 128, M = 20, an LSTM controller of 100 units, one read and one write head.
"""

from __future__ import annotations

import argparse
import platform
import time

import torch

from ntm import NTM, NTMConfig
from ntm.addressing import address


def timed(fn, repeats: int, warmup: int = 2) -> float:
    """Median wall time of ``fn()`` over ``repeats`` runs, in seconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2]


def train_step_throughput(batch: int, repeats: int, device: str) -> tuple[float, float]:
    torch.manual_seed(0)
    model = NTM(NTMConfig(memory_rows=128, memory_width=20, controller_size=100)).to(device)
    x = torch.rand(41, batch, 9, device=device).round()
    target = torch.rand(20, batch, 8, device=device).round()
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def step():
        model.zero_grad(set_to_none=True)
        loss_fn(model(x)[21:], target).backward()
        if device == "cuda":
            torch.cuda.synchronize()

    seconds = timed(step, repeats)
    return batch / seconds, seconds * 1000


def address_latency(repeats: int, device: str) -> float:
    g = torch.Generator().manual_seed(0)
    memory = torch.randn(1, 128, 20, generator=g).to(device)
    key = torch.randn(1, 20, generator=g).to(device)
    args = (memory, key, torch.tensor([[5.0]], device=device), torch.tensor([[0.5]], device=device),
            torch.tensor([[0.2, 0.5, 0.3]], device=device), torch.tensor([[2.0]], device=device),
            torch.softmax(torch.randn(1, 128, generator=g), -1).to(device))

    def call():
        with torch.no_grad():
            address(*args)
        if device == "cuda":
            torch.cuda.synchronize()

    return timed(call, repeats * 200, warmup=50) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batches", default="1,8,32,128")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch intra-op threads (default: torch's own choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    repeats = 3 if args.quick else 7
    print(f"torch {torch.__version__}, {args.device}, {torch.get_num_threads()} threads, "
          f"{platform.processor() or platform.machine()}")
    print()
    print("| batch | sequences/s (fwd+bwd) | ms per batch |")
    print("|---:|---:|---:|")
    for b in (int(s) for s in args.batches.split(",")):
        rate, ms = train_step_throughput(b, repeats, args.device)
        print(f"| {b} | {rate:,.1f} | {ms:,.1f} |")
    print()
    us = address_latency(repeats, args.device)
    print("| call | latency |")
    print("|---|---:|")
    print(f"| `address` B=1, N=128, M=20, R=1 (no grad) | {us:,.0f} µs |")


if __name__ == "__main__":
    main()
