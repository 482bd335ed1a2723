"""The Python reference API: FastAPI + uvicorn serving the Pipeline that pipeline.py fitted, one
penguin per request, the way the FastAPI and scikit-learn docs suggest (a pydantic model for the
body, a one-row pandas DataFrame per request, Pipeline.predict_proba).

    MODEL_PATH=out/model.joblib uvicorn serve:app --host 127.0.0.1 --port 8000 --no-access-log

POST /v1/predict takes the same JSON as the generated project's API and answers in the same shape.
"""

import os
from typing import Literal, Optional

import joblib
import pandas as pd
from fastapi import FastAPI
from pydantic import BaseModel, Field

MODEL_PATH = os.environ.get("MODEL_PATH", "model.joblib")
pipeline = joblib.load(MODEL_PATH)
app = FastAPI(title="penguins (Python reference)")


class Penguin(BaseModel):
    island: Optional[Literal["Biscoe", "Dream", "Torgersen"]] = None
    bill_length_mm: Optional[float] = Field(None, ge=20, le=80)
    bill_depth_mm: Optional[float] = Field(None, ge=10, le=30)
    flipper_length_mm: Optional[float] = Field(None, ge=150, le=250)
    body_mass_g: Optional[float] = Field(None, ge=2000, le=7000)
    sex: Optional[Literal["female", "male"]] = None


@app.get("/health")
def health():
    return {"status": "ok"}


@app.post("/v1/predict")
def predict(penguin: Penguin):
    frame = pd.DataFrame([penguin.model_dump()])
    probabilities = pipeline.predict_proba(frame)[0]
    classes = [str(c) for c in pipeline.classes_]
    best = int(probabilities.argmax())
    return {
        "target": "species",
        "prediction": classes[best],
        "probabilities": dict(zip(classes, map(float, probabilities))),
        "model": {"name": "python-reference", "version": "1"},
    }
