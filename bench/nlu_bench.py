"""NLU speed benchmark (issue 3): one process must parse at least 2,000 messages a
second with p99 under 5 ms per message, load the model in under 1 s, and stay under
200 MB of resident memory.

    .venv/bin/python bench/nlu_bench.py [--messages 20000] [--model-dir var/nlu]

The model is trained first if it is not cached. "Model load" is measured in a fresh
process (imports included, the way `make run` starts): building `LocalNlu` from the
cached model and the gazetteer. Messages are the training examples, each with a town
or a typo added half of the time, in a fixed shuffled order.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.nlu.model import DEFAULT_DATA_DIR, load_or_train
from bot.nlu.rasa_format import load_training_data

TARGETS = {"msgs/s": 2000.0, "p99 ms": 5.0, "load s": 1.0, "rss MB": 200.0}

_LOAD_SNIPPET = """
import sys, time
started = time.perf_counter()
from pathlib import Path
from bot.nlu.pipeline import LocalNlu
nlu = LocalNlu(Path(sys.argv[1]))
nlu.parse_sync("salam")
print(time.perf_counter() - started)
"""


def _messages(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    base = [e.text for e in load_training_data(DEFAULT_DATA_DIR)]
    towns = ["f casa", "f tiznit", "à Agadir", "في الرباط", "ana f 9nitra", "فطنجة", "de Fès"]
    out: list[str] = []
    while len(out) < n:
        text = rng.choice(base)
        roll = rng.random()
        if roll < 0.3:
            text = f"{text} {rng.choice(towns)}"
        elif roll < 0.5 and len(text) > 6:
            i = rng.randrange(len(text) - 1)
            text = text[:i] + text[i + 1] + text[i] + text[i + 2 :]  # swap two letters
        out.append(text)
    return out


def _load_time(model_dir: Path) -> float:
    """Seconds to import the NLU and build LocalNlu in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", _LOAD_SNIPPET, str(model_dir)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--model-dir", type=Path, default=ROOT / "var" / "nlu")
    args = parser.parse_args()

    load_or_train(DEFAULT_DATA_DIR, args.model_dir)  # make sure the cache exists
    loads = sorted(_load_time(args.model_dir) for _ in range(3))
    load = loads[1]  # median of three cold starts

    from bot.nlu.pipeline import LocalNlu

    nlu = LocalNlu(args.model_dir)
    messages = _messages(args.messages)
    for text in messages[:200]:  # warm-up (caches, langdetect profiles)
        nlu.parse_sync(text)
    latencies: list[float] = []
    started = time.perf_counter()
    for text in messages:
        t0 = time.perf_counter()
        nlu.parse_sync(text)
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    latencies.sort()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    figures = {
        "msgs/s": len(messages) / elapsed,
        "p99 ms": latencies[int(0.99 * (len(latencies) - 1))] * 1000,
        "load s": load,
        "rss MB": rss_mb,
    }
    print(f"NLU benchmark: {len(messages)} messages, one process, Python {sys.version.split()[0]}")
    print(f"  median latency {statistics.median(latencies) * 1000:.3f} ms, "
          f"p99.9 {latencies[int(0.999 * (len(latencies) - 1))] * 1000:.2f} ms, "
          f"max {latencies[-1] * 1000:.2f} ms")  # fmt: skip
    ok = True
    for name, value in figures.items():
        target = TARGETS[name]
        good = value >= target if name == "msgs/s" else value < target
        ok &= good
        sign = ">=" if name == "msgs/s" else "<"
        print(f"  {'ok ' if good else 'LOW'} {name:8} {value:10.2f}   (target {sign} {target:g})")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
