"""Outputs people load as they are: the Hugging Face dataset layout, trainers' hard-negative
formats, and destinations on any filesystem fsspec reaches (local, s3://, abfss://, gs://, dbfs:/).
"""
