"""Spark adapters of lib/ (pandas UDFs, mapInPandas functions) and the session, Delta and progress helpers."""
