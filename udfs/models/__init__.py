"""Spark side of the model stages: encoders and classifiers per worker, annotate and bitexts UDFs."""
