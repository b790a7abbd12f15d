"""The statistics report of the WebFAQ 2.0 paper (its Tables 1-4 and figures) from the tables.

udfs/report.py aggregates the Delta tables with Spark into small pandas frames; this package
turns them into the report's tables (lib/report/tables.py), figures (lib/report/figures.py) and
one self-contained HTML page plus Markdown and CSV files (lib/report/page.py), without Spark.
"""
