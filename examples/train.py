"""Train a tiny churn model on the dq-validated training set.

Behind ``dq gate`` it reads the trusted snapshot named by ``DQ_SNAPSHOT`` through
``dq.load_validated()``, which refuses (``dq.SnapshotError``) a snapshot that does not match the
gate's fingerprint; run without the gate, it reads the DuckDB table ``main.training_set``
(read-only) from ``--db``. Fits a logistic regression on the
numeric features, prints accuracy and writes the coefficients as JSON to ``--model-out``.
If ``DQ_TRAIN_MARKER`` is set, writes "trained" to that path.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import dq

FEATURES = [
    "age",
    "income",
    "monthly_price",
    "n_orders",
    "total_spend",
    "n_events_30d",
    "n_support_events_90d",
]
LABEL = "churned"
CONTRACT = "churn_training_set"  # the contract whose snapshot is read when the gate checked several


def load(db: str) -> tuple[pd.DataFrame, str]:
    """Return the training set and a description of where it came from."""
    if snapshot := os.environ.get("DQ_SNAPSHOT"):
        df = dq.load_validated(contract=CONTRACT)
        return df[[*FEATURES, LABEL]], f"{snapshot} (verified)"
    with duckdb.connect(db, read_only=True) as con:
        query = f"select {', '.join(FEATURES)}, {LABEL} from main.training_set"
        return con.execute(query).df(), f"{db}:main.training_set"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("DQ_DB", "dbt_project/warehouse.duckdb"))
    parser.add_argument("--model-out", default=".dq/model.json")
    args = parser.parse_args(argv)

    if result := os.environ.get("DQ_RESULT"):
        print(f"validated by dq: {result}")
    try:
        df, source = load(args.db)
    except dq.SnapshotError as exc:
        raise SystemExit(f"refusing to train: {exc}") from None
    x = df[FEATURES].astype(float).fillna(df[FEATURES].median(numeric_only=True)).fillna(0.0).to_numpy()
    y = df[LABEL].astype(bool).to_numpy()
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.25, random_state=0)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x_tr, y_tr)
    accuracy = float(model.score(x_te, y_te))
    print(f"trained on {len(df)} rows from {source}; churn rate {y.mean():.3f}; test accuracy {accuracy:.3f}")

    scaler, clf = model.named_steps["standardscaler"], model.named_steps["logisticregression"]
    out = Path(args.model_out)
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "features": FEATURES,
        "mean": scaler.mean_.tolist(),
        "scale": scaler.scale_.tolist(),
        "coef": np.ravel(clf.coef_).tolist(),
        "intercept": float(clf.intercept_[0]),
        "accuracy": accuracy,
        "source": source,
        "validated_by": os.environ.get("DQ_RESULT"),
    }
    out.write_text(json.dumps(payload, indent=2))
    print(f"model written to {out}")
    if marker := os.environ.get("DQ_TRAIN_MARKER"):
        Path(marker).write_text("trained")


if __name__ == "__main__":
    main()
