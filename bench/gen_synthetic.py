"""Writes the synthetic penguins-like CSV that `bench_pipeline` generates in memory, byte for byte.

The generated project's `src/scripts/bench_pipeline.rs` draws every value from two SplitMix64
streams (`seed` for the Gaussian measurements, `seed ^ 0x5EED` for the choices). SplitMix64's k-th
output has a closed form, and every row consumes a fixed number of draws (8 from each stream), so
the whole file is computed here with vectorised numpy. `SplitMix64::below` rejects draws above
`u64::MAX - u64::MAX % n`; for n <= 1000 that happens with probability below 1e-16 per draw, and
this script fails loudly if it ever does instead of silently diverging.

    python gen_synthetic.py --rows 1000000 --seed 42 --out synthetic.csv
"""

import argparse
import math
import sys

import numpy as np

GAMMA = np.uint64(0x9E3779B97F4A7C15)
U64_MAX = (1 << 64) - 1

# name, (mean, sd) of bill length, bill depth, flipper length, body mass, islands
SPECIES = [
    ("Adelie", [(38.8, 2.7), (18.3, 1.2), (190.0, 6.5), (3700.0, 460.0)], ["Biscoe", "Dream", "Torgersen"]),
    ("Chinstrap", [(48.8, 3.3), (18.4, 1.1), (196.0, 7.1), (3733.0, 384.0)], ["Dream"]),
    ("Gentoo", [(47.5, 3.1), (15.0, 1.0), (217.0, 6.5), (5076.0, 504.0)], ["Biscoe"]),
]
HEADER = "species,island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,year\n"


def splitmix64(seed: int, count: int) -> np.ndarray:
    """The first `count` outputs of SplitMix64 seeded with `seed`."""
    with np.errstate(over="ignore"):
        k = np.arange(1, count + 1, dtype=np.uint64)
        z = np.uint64(seed) + k * GAMMA
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def below(draws: np.ndarray, n: int) -> np.ndarray:
    zone = U64_MAX - U64_MAX % n
    if n > 1 and (draws >= np.uint64(zone)).any():
        sys.exit("a rejected draw: this seed needs the sequential generator")
    if n == 1 and (draws == np.uint64(U64_MAX)).any():
        sys.exit("a rejected draw: this seed needs the sequential generator")
    return (draws % np.uint64(n)).astype(np.int64)


def unit(draws: np.ndarray) -> np.ndarray:
    return (draws >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def generate(rows: int, seed: int) -> str:
    choice = splitmix64(seed ^ 0x5EED, rows * 8).reshape(rows, 8)
    rng = splitmix64(seed, rows * 8).reshape(rows, 8)
    species = below(choice[:, 0], 3)
    # The island draw depends on the species' island count (1 or 3).
    island = np.zeros(rows, dtype=np.int64)
    adelie = species == 0
    island[adelie] = below(choice[adelie, 1], 3)
    below(choice[~adelie, 1], 1)
    kinds = [below(choice[:, 2 + i], 1000) for i in range(4)]
    sex = below(choice[:, 6], 2)
    year = 2007 + below(choice[:, 7], 3)

    means = np.array([[m for m, _ in s[1]] for s in SPECIES])
    sds = np.array([[d for _, d in s[1]] for s in SPECIES])
    columns = []
    for i in range(4):
        u1 = 1.0 - unit(rng[:, 2 * i])
        u2 = unit(rng[:, 2 * i + 1])
        # Same operations, in the same order, as the Rust Box-Muller transform.
        normal = np.sqrt(-2.0 * np.log(u1)) * np.cos(math.tau * u2)
        value = means[species, i] + sds[species, i] * normal
        fmt = "{:.1f}" if i < 2 else "{:.0f}"
        texts = [fmt.format(v) for v in value.tolist()]
        kind = kinds[i]
        for j in np.flatnonzero(kind <= 10).tolist():
            texts[j] = "NA" if kind[j] <= 9 else "not-a-number"
        columns.append(texts)
    names = [s[0] for s in SPECIES]
    islands = [SPECIES[s][2][k] for s, k in zip(species.tolist(), island.tolist())]
    sexes = ["female", "male"]
    lines = [
        f"{names[s]},{isl},{a},{b},{c},{d},{sexes[x]},{y}\n"
        for s, isl, a, b, c, d, x, y in zip(
            species.tolist(), islands, *columns, sex.tolist(), year.tolist()
        )
    ]
    return HEADER + "".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    text = generate(args.rows, args.seed)
    with open(args.out, "w", encoding="ascii", newline="") as f:
        f.write(text)


if __name__ == "__main__":
    main()
