"""The Python reference pipeline: the same job as the generated project's make_dataset ->
train_model -> test_model -> predict_model, written the way a pandas + scikit-learn user would.

    python pipeline.py --input penguins.csv --work-dir out/

read CSV -> clean (the silver rules: types, ranges, categories, missing target, every feature
missing, duplicates; rejected rows go to quarantine.csv with a reason) -> stratified split
(seeded, 20% test) -> a Pipeline of ColumnTransformer(impute + scale numeric, impute + one-hot
categorical) and a multinomial LogisticRegression -> evaluate on the held-out split
(metrics.json) -> batch-predict the held-out raw rows from CSV (predictions.csv with class
probabilities). The fitted Pipeline is saved with joblib for serve.py.

Prints one JSON object on stdout: seconds per step, rows, accuracy, macro-F1.
"""

import argparse
import json
import os
import time

import joblib
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

# The bundled schema (config/schema.toml of the generated project).
TARGET = "species"
CATEGORIES = {
    "species": ["Adelie", "Chinstrap", "Gentoo"],
    "island": ["Biscoe", "Dream", "Torgersen"],
    "sex": ["female", "male"],
}
RANGES = {
    "bill_length_mm": (20.0, 80.0),
    "bill_depth_mm": (10.0, 30.0),
    "flipper_length_mm": (150.0, 250.0),
    "body_mass_g": (2000.0, 7000.0),
    "year": (1900.0, None),
}
NUMERIC_FEATURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
CATEGORICAL_FEATURES = ["island", "sex"]
FEATURES = NUMERIC_FEATURES + CATEGORICAL_FEATURES
MISSING = ["", "NA"]


def read_raw(path: str) -> pd.DataFrame:
    # Everything as text first, so malformed numbers can be quarantined rather than lost.
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def validate(raw: pd.DataFrame, require_target: bool = True):
    """Types and checks each row; returns (typed valid rows, quarantined rows with a reason)."""
    problems = []  # (mask of failing rows, reason)
    clean = pd.DataFrame(index=raw.index)
    for column, (low, high) in RANGES.items():
        text = raw[column].str.strip()
        missing = text.isin(MISSING)
        value = pd.to_numeric(text.mask(missing), errors="coerce")
        problems.append((~missing & value.isna(), f"`{column}` is not a number"))
        out = value < low
        if high is not None:
            out |= value > high
        problems.append((out, f"`{column}` is out of range"))
        clean[column] = value
    for column, allowed in CATEGORIES.items():
        if column not in raw:  # the target is optional in a batch to predict
            continue
        text = raw[column].str.strip()
        missing = text.isin(MISSING)
        value = text.str.lower().map({c.lower(): c for c in allowed})
        problems.append((~missing & value.isna(), f"`{column}` is not one of {allowed}"))
        clean[column] = value
    if require_target:
        problems.append((clean[TARGET].isna(), f"missing target `{TARGET}`"))
    problems.append((clean[FEATURES].isna().all(axis=1), "every feature is missing"))
    bad = np.logical_or.reduce([mask.to_numpy() for mask, _ in problems])
    reasons = [
        "; ".join(text for mask, text in problems if mask.iloc[i]) for i in np.flatnonzero(bad)
    ]
    quarantined = raw[bad].assign(reason=reasons, line=raw.index[bad] + 2)
    return clean[~bad], quarantined


def build_pipeline() -> Pipeline:
    preprocess = ColumnTransformer(
        [
            (
                "numeric",
                Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]),
                NUMERIC_FEATURES,
            ),
            (
                "categorical",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="most_frequent")),
                        ("onehot", OneHotEncoder(handle_unknown="ignore")),
                    ]
                ),
                CATEGORICAL_FEATURES,
            ),
        ]
    )
    # lbfgs fits a multinomial model for 3 classes; C=10 is an L2 strength of 0.1 like the Rust default.
    model = LogisticRegression(C=10.0, max_iter=200)
    return Pipeline([("preprocess", preprocess), ("model", model)])


def main() -> None:
    parser = argparse.ArgumentParser(description="pandas + scikit-learn reference pipeline")
    parser.add_argument("--input", required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--test-fraction", type=float, default=0.2)
    args = parser.parse_args()
    os.makedirs(args.work_dir, exist_ok=True)
    out = lambda name: os.path.join(args.work_dir, name)  # noqa: E731
    steps = {}

    def step(name, started):
        steps[name] = time.perf_counter() - started

    t = time.perf_counter()
    raw = read_raw(args.input)
    step("read", t)

    t = time.perf_counter()
    silver, quarantined = validate(raw)
    before = len(silver)
    silver = silver.drop_duplicates()
    duplicates = before - len(silver)
    quarantined.to_csv(out("quarantine.csv"), index=False)
    del raw
    step("clean", t)

    t = time.perf_counter()
    train, test = train_test_split(
        silver, test_size=args.test_fraction, stratify=silver[TARGET], random_state=args.seed
    )
    # The held-out rows in the raw schema, for the batch prediction step (like gold/test_raw.csv).
    test.drop(columns=[TARGET]).to_csv(out("test_raw.csv"), index=False)
    step("split", t)

    t = time.perf_counter()
    pipeline = build_pipeline()
    pipeline.fit(train[FEATURES], train[TARGET])
    joblib.dump(pipeline, out("model.joblib"))
    step("train", t)

    t = time.perf_counter()
    predicted = pipeline.predict(test[FEATURES])
    metrics = {
        "accuracy": accuracy_score(test[TARGET], predicted),
        "macro_f1": f1_score(test[TARGET], predicted, average="macro"),
        "test_rows": len(test),
    }
    with open(out("metrics.json"), "w") as f:
        json.dump(metrics, f)
    step("evaluate", t)

    t = time.perf_counter()
    batch = read_raw(out("test_raw.csv"))
    valid, rejected = validate(batch, require_target=False)
    probabilities = pipeline.predict_proba(valid[FEATURES])
    classes = pipeline.classes_
    predictions = pd.DataFrame(probabilities, columns=classes, index=valid.index)
    predictions.insert(0, "prediction", classes[np.argmax(probabilities, axis=1)])
    predictions.insert(0, "line", valid.index + 2)
    predictions.to_csv(out("predictions.csv"), index=False)
    step("predict", t)

    print(
        json.dumps(
            {
                "steps": steps,
                "rows": {
                    "raw": int(before + len(quarantined)),
                    "quarantined": int(len(quarantined)),
                    "duplicates": int(duplicates),
                    "train": int(len(train)),
                    "test": int(len(test)),
                    "predicted": int(len(valid)),
                },
                "accuracy": metrics["accuracy"],
                "macro_f1": metrics["macro_f1"],
            }
        )
    )


if __name__ == "__main__":
    main()
