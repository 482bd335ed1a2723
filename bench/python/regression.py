"""scikit-learn's Ridge on the same split as the generated project's regression example.

    python regression.py --datasets <DATASETS_DIR> --model-dir <model dir> --metrics <metrics.json>

After the generated project's make_dataset -> train_model -> test_model ran with
DATA_SCHEMA=config/examples/penguins-body-mass.toml (bench/run.py `regression`), this reads its
data layers and fits scikit-learn twice, with the penalty the Rust model was trained with:

  gold      Ridge on the gold layer's encoded inputs (train.parquet -> test.parquet): the same
            numbers in, so only the solver differs;
  pipeline  a full scikit-learn Pipeline (median imputation + StandardScaler for numeric features,
            most-frequent imputation + OneHotEncoder over the declared categories, Ridge) fitted on
            the raw training rows and evaluated on the raw held-out rows (gold/test_raw.parquet):
            scikit-learn's own preprocessing, on the same rows.

The raw training rows are silver minus test_raw (silver holds no duplicate rows, so each held-out
row matches exactly one silver row); their targets, in silver order, must equal train.parquet's.
As a further check the split is drawn again here from the seed (quantile bins, SplitMix64,
Fisher-Yates, as gold.rs does) and compared with test_raw; that one is reported, not required.

Prints one JSON object on stdout: the versions, the rows, each side's R^2 / RMSE / MAE, and how far
the predictions, the coefficients and the encoded inputs are from the Rust ones.
"""

import argparse
import hashlib
import json
import math
import os
import platform
import sys
import time

import numpy as np
import pandas as pd
import pyarrow
import pyarrow.parquet as pq
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

MASK = (1 << 64) - 1
QUANTILE_BINS = 10  # gold.rs QUANTILE_BINS


def fail(message):
    sys.exit(f"regression.py: {message}")


def read_json(path):
    with open(path) as f:
        return json.load(f)


def verified(layer_dir, entry):
    """The path of a manifest's file entry, after checking its SHA-256."""
    path = os.path.join(layer_dir, entry["file"])
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest != entry["sha256"]:
        fail(f"{path}: SHA-256 {digest} differs from its manifest's {entry['sha256']}")
    return path


# --- the split, drawn again (gold.rs) ------------------------------------------------------------


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, n):
        zone = MASK - MASK % n
        while True:
            x = self.next_u64()
            if x < zone:
                return x % n


def quantile_bins(values):
    bins = min(max(len(values) // 2, 1), QUANTILE_BINS)
    order = sorted(range(len(values)), key=lambda i: (values[i], i))
    labels = [0] * len(values)
    for rank, row in enumerate(order):
        labels[row] = rank * bins // len(values)
    return labels, bins


def stratified_split(labels, n_classes, test_fraction, seed):
    rng = SplitMix64(seed)
    train, test = [], []
    for c in range(n_classes):
        members = [i for i, label in enumerate(labels) if label == c]
        for i in range(len(members) - 1, 0, -1):
            j = rng.below(i + 1)
            members[i], members[j] = members[j], members[i]
        n = len(members)
        # Rust's f64::round rounds halves away from zero (Python's round() would not).
        n_test = 0 if n < 2 else min(max(math.floor(n * test_fraction + 0.5), 1), n - 1)
        test += members[:n_test]
        train += members[n_test:]
    return sorted(train), sorted(test)


# --- metrics -------------------------------------------------------------------------------------


def scores(y, predicted):
    return {"r2": float(r2_score(y, predicted)),
            "rmse": float(math.sqrt(mean_squared_error(y, predicted))),
            "mae": float(mean_absolute_error(y, predicted))}


def max_abs(a, b):
    return float(np.max(np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float))))


def row_key(row, columns):
    return tuple(None if (v is None or (isinstance(v, float) and math.isnan(v))) else v
                 for v in (row[c] for c in columns))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", required=True, help="DATASETS_DIR of the Rust run")
    parser.add_argument("--model-dir", required=True, help="the trained model directory")
    parser.add_argument("--metrics", required=True, help="reports/metrics.json of test_model")
    args = parser.parse_args()
    started = time.perf_counter()

    silver_dir = os.path.join(args.datasets, "silver")
    gold_dir = os.path.join(args.datasets, "gold")
    silver_manifest = read_json(os.path.join(silver_dir, "manifest.json"))
    gold = read_json(os.path.join(gold_dir, "manifest.json"))
    metadata = read_json(os.path.join(args.model_dir, "metadata.json"))
    model = read_json(os.path.join(args.model_dir, "model.json"))
    metrics = read_json(args.metrics)
    rust = metrics["metrics"]
    if rust.get("task") != "regression":
        fail(f"{args.metrics} holds {rust.get('task')} metrics, not regression ones")
    if model.get("algorithm") != "ridge_regression":
        fail(f"the Rust model is {model.get('algorithm')}, not ridge_regression")
    alpha = float(metadata["hyperparameters"]["l2_penalty"])

    schema = metadata["feature_schema"]
    target = schema["target"]
    fields = [f for f in schema["fields"] if f["role"] == "feature" and f["name"] != target]
    numeric = [f["name"] for f in fields if f["kind"] == "numeric"]
    categorical = [f["name"] for f in fields if f["kind"] == "categorical"]
    categories = [f["categories"] for f in fields if f["kind"] == "categorical"]
    names = gold["features"]  # the encoded inputs, in the Rust model's order

    silver = pq.read_table(verified(silver_dir, silver_manifest["data"])).to_pandas()
    train_gold = pq.read_table(verified(gold_dir, gold["train"])).to_pandas()
    test_gold = pq.read_table(verified(gold_dir, gold["test"])).to_pandas()
    test_raw = pq.read_table(verified(gold_dir, gold["test_raw"])).to_pandas()
    for frame in (silver, test_raw):  # scikit-learn's imputers look for NaN, not None
        for column in categorical:
            frame[column] = frame[column].astype(object).where(frame[column].notna(), np.nan)

    # The raw training rows: silver minus the held-out rows.
    columns = list(silver.columns)
    index_of = {}
    for i, row in enumerate(silver.to_dict("records")):
        key = row_key(row, columns)
        if key in index_of:
            fail("silver holds a duplicate row, so test_raw rows cannot be matched one to one")
        index_of[key] = i
    held_out = []
    for row in test_raw.to_dict("records"):
        key = row_key(row, columns)
        if key not in index_of:
            fail(f"a test_raw row is not in silver: {row}")
        held_out.append(index_of[key])
    if len(set(held_out)) != len(held_out):
        fail("two test_raw rows match the same silver row")
    in_test = set(held_out)
    train_rows = [i for i in range(len(silver)) if i not in in_test]
    train_raw = silver.iloc[train_rows].reset_index(drop=True)
    # Gold writes each split in silver order: the reconstruction must give the same targets.
    if not (np.array_equal(train_raw[target].to_numpy(), train_gold[target].to_numpy())
            and np.array_equal(test_raw[target].to_numpy(), test_gold[target].to_numpy())):
        fail("the reconstructed raw rows do not line up with gold's train/test targets")
    if sorted(held_out) != held_out:
        fail("test_raw is not in silver order")

    # The split drawn again from the seed (reported only).
    labels, n_bins = quantile_bins(silver[target].tolist())
    _, redrawn_test = stratified_split(labels, n_bins, gold["test_fraction"], gold["split_seed"])
    split_reproduced = redrawn_test == held_out

    # Rust's held-out predictions, in test order, from metrics.json.
    points = np.asarray(rust["points"], dtype=float)
    if len(points) != len(test_gold) or not np.array_equal(points[:, 0], test_gold[target].to_numpy()):
        fail("metrics.json points do not line up with gold/test.parquet")
    rust_predicted = points[:, 1]
    y_train, y_test = train_gold[target].to_numpy(), test_gold[target].to_numpy()

    # 1. Ridge on the gold layer's encoded inputs.
    fit_started = time.perf_counter()
    on_gold = Ridge(alpha=alpha).fit(train_gold[names].to_numpy(), y_train)
    gold_predicted = on_gold.predict(test_gold[names].to_numpy())
    gold_seconds = time.perf_counter() - fit_started

    # 2. A whole scikit-learn pipeline on the raw rows. Most-frequent imputation breaks ties by the
    # smallest value, gold.rs by the first declared category: the same when categories are declared
    # in sorted order, as here.
    encoder = ColumnTransformer([
        ("numeric", Pipeline([("impute", SimpleImputer(strategy="median")),
                              ("scale", StandardScaler())]), numeric),
        ("categorical", Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                                  ("one_hot", OneHotEncoder(categories=categories,
                                                            handle_unknown="ignore"))]), categorical),
    ], sparse_threshold=0.0)
    pipeline = Pipeline([("encode", encoder), ("model", Ridge(alpha=alpha))])
    fit_started = time.perf_counter()
    pipeline.fit(train_raw[numeric + categorical], train_raw[target].to_numpy())
    pipeline_predicted = pipeline.predict(test_raw[numeric + categorical])
    pipeline_seconds = time.perf_counter() - fit_started
    # scikit-learn's encoded columns (numeric ones, then each declared category, in the order the
    # ColumnTransformer lists them), named as gold names them and reordered to gold's order.
    sk_names = numeric + [f"{c}={v}" for c, values in zip(categorical, categories) for v in values]
    if len(sk_names) != len(encoder.get_feature_names_out()):
        fail(f"scikit-learn encodes {list(encoder.get_feature_names_out())}, expected {sk_names}")
    if sorted(sk_names) != sorted(names):
        fail(f"scikit-learn's encoded columns {sk_names} are not gold's {names}")
    order = [sk_names.index(n) for n in names]
    encoder = pipeline.named_steps["encode"]  # fitted in place by the Pipeline
    encoded_train = encoder.transform(train_raw[numeric + categorical])[:, order]
    encoded_test = encoder.transform(test_raw[numeric + categorical])[:, order]
    pipeline_coefficients = pipeline.named_steps["model"].coef_[order]

    rust_coefficients = model["model"]["coefficients"]
    out = {
        "versions": {"python": platform.python_version(), "numpy": np.__version__,
                     "pandas": pd.__version__, "pyarrow": pyarrow.__version__,
                     "scikit-learn": sklearn.__version__},
        "target": target,
        "unit": schema.get("unit"),
        "alpha": alpha,
        "inputs": [f["name"] for f in fields],
        "features": names,
        "rows": {"bronze": silver_manifest["rows"]["bronze_rows"], "silver": len(silver),
                 "quarantined": silver_manifest["rows"]["quarantined"], "train": len(train_gold),
                 "test": len(test_gold)},
        "split": {"seed": gold["split_seed"], "test_fraction": gold["test_fraction"],
                  "redrawn_from_seed_matches": split_reproduced},
        "rust": {"r2": rust["r2"], "rmse": rust["rmse"], "mae": rust["mae"], "rows": rust["rows"],
                 "recomputed": scores(y_test, rust_predicted)},
        "sklearn_gold": dict(scores(y_test, gold_predicted), seconds=gold_seconds, solver=on_gold.solver_,
                             max_abs_prediction_difference=max_abs(gold_predicted, rust_predicted),
                             max_abs_coefficient_difference=max_abs(on_gold.coef_, rust_coefficients),
                             intercept_difference=float(on_gold.intercept_ - model["model"]["intercept"])),
        "sklearn_pipeline": dict(scores(y_test, pipeline_predicted), seconds=pipeline_seconds,
                                 solver=pipeline.named_steps["model"].solver_,
                                 max_abs_prediction_difference=max_abs(pipeline_predicted, rust_predicted),
                                 max_abs_coefficient_difference=max_abs(pipeline_coefficients, rust_coefficients),
                                 max_abs_encoded_train_difference=max_abs(encoded_train, train_gold[names]),
                                 max_abs_encoded_test_difference=max_abs(encoded_test, test_gold[names])),
        "seconds": time.perf_counter() - started,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
