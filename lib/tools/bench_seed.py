"""The seeded databases bench measures on: seeded once per order count in a child process and kept in the cache
directory; each run works on a fresh copy, because the void figures void real orders."""
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from tempfile import gettempdir

CACHE_ENV = "VOIDDESK_BENCH_DIR"
ROOT = Path(__file__).resolve().parents[2]
SEED_BYTES_PER_ORDER = 2_800   # peak memory of `seed`, measured: ≈2.7 GB per million orders


def cache_dir(explicit: str | None = None) -> Path:
    """--cache-dir, else $VOIDDESK_BENCH_DIR, else voiddesk-bench in the system temp directory."""
    return Path(explicit or os.environ.get(CACHE_ENV) or Path(gettempdir()) / "voiddesk-bench")


def seeded_base(orders: int, cache: Path, say) -> tuple[Path, dict]:
    """The cached seeded database for `orders` (seeded once, never written to): copy it before use."""
    cache.mkdir(parents=True, exist_ok=True)
    base = cache / f"seed-{orders}.duckdb"
    info = {"cache_dir": str(cache)}
    if base.exists():
        info["seed"] = "reused"
    else:
        info.update(_seed(base, orders, say))
    return base, info


def fresh_copy(orders: int, cache: Path, say) -> tuple[Path, dict]:
    """A copy of the seeded database for `orders`, to measure on (and write to)."""
    base, info = seeded_base(orders, cache, say)
    work = cache / f"work-{orders}.duckdb"
    say(f"copying {base.name} to {work.name}")
    for stale in (work, Path(f"{work}.wal")):
        stale.unlink(missing_ok=True)
    shutil.copyfile(base, work)
    info["file_mb"] = round(work.stat().st_size / 2**20, 1)
    return work, info


def _seed(base: Path, orders: int, say) -> dict:
    """Seed in a child process (its peak memory is its own) into a temporary name, then move it in place."""
    need, free = orders * SEED_BYTES_PER_ORDER, _available_memory()
    if free is not None and need > free:
        raise SystemExit(f"error: seeding {orders:,} orders needs about {need / 2**30:.1f} GB of memory;"
                         f" {free / 2**30:.1f} GB is available")
    tmp = base.with_suffix(".seeding.duckdb")
    for stale in (tmp, Path(f"{tmp}.wal")):
        stale.unlink(missing_ok=True)
    say(f"seeding {orders:,} orders into {base} (once; later runs reuse it)")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "lib.cli", "seed", "--db", str(tmp), "--orders", str(orders), "--json"],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    tmp.rename(base)
    return {"seed": "seeded", "seed_s": round(time.perf_counter() - started, 1),
            "seed_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)}


def _available_memory() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None
