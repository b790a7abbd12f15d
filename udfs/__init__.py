"""Spark adapters of lib/: pandas UDFs, mapInPandas functions, Delta helpers."""
