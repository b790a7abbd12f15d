"""Spark-free logic of webfaq-spark: pure functions over strings, bytes and rows."""
