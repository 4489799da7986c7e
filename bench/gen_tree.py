#!/usr/bin/env python3
"""Generates a deterministic Lambda-like source tree: Python sources, JSON, binaries.

usage: gen_tree.py DIR [SCALE]   (SCALE 1 ≈ 80 MB and 2,250 files; content depends only on SCALE)
"""
import json
import os
import random
import sys

WORDS = ("def return self import from class None True False if else for in while with as "
         "try except raise yield lambda data value items result config request response "
         "handler event context logger client session table bucket key name path index").split()


def python_source(rng, size):
    lines = []
    total = 0
    while total < size:
        indent = "    " * rng.randint(0, 3)
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 9)))
        line = f"{indent}{words}  # {rng.randint(0, 10**6)}\n"
        lines.append(line)
        total += len(line)
    return "".join(lines).encode()


def json_document(rng, size):
    records = []
    total = 0
    while total < size:
        record = {
            "id": rng.randint(0, 10**9),
            "name": "-".join(rng.choice(WORDS) for _ in range(3)),
            "score": round(rng.random() * 100, 3),
            "tags": [rng.choice(WORDS) for _ in range(rng.randint(0, 5))],
        }
        records.append(record)
        total += 90
    return json.dumps(records, indent=1).encode()


def binary(rng, size):
    """Half incompressible, half structured (tables, padding), like a shared object."""
    out = bytearray()
    while len(out) < size:
        block = rng.randint(512, 8192)
        if rng.random() < 0.5:
            out += rng.randbytes(block)
        else:
            out += bytes(rng.choice(WORDS).encode() * (block // 8)) + bytes(block // 2)
    return bytes(out[:size])


def main():
    root = sys.argv[1]
    scale = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    rng = random.Random(20261121)
    plan = (
        [("py", python_source, 2_000, 30_000)] * int(1_800 * scale)
        + [("json", json_document, 2_000, 80_000)] * int(350 * scale)
        + [("so", binary, 20_000, 500_000)] * int(100 * scale)
        + [("bin", binary, 3_000_000, 5_000_000)] * int(3 * scale)
    )
    total = 0
    for index, (ext, make, low, high) in enumerate(plan):
        package = f"pkg{index % 37}/sub{index % 5}"
        path = os.path.join(root, "site-packages", package, f"file_{index}.{ext}")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        data = make(rng, rng.randint(low, high))
        with open(path, "wb") as f:
            f.write(data)
        if ext in ("so", "bin"):
            os.chmod(path, 0o755)
        total += len(data)
    print(f"{root}: {len(plan)} files, {total / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
