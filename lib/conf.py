"""Configuration profiles: ``conf/base.yaml`` merged with ``conf/<profile>.yaml`` and overrides.

Every job reads its table names, model names, thresholds and Spark settings from here; nothing is
hard-coded in a job. A value is addressed by a dotted key (``extract.langid.top1_threshold``).

    python -m lib.conf show --profile local                 # the merged configuration
    python -m lib.conf show --profile cluster,gpu           # profiles stack, left to right
    python -m lib.conf spark-submit-args --profile cluster  # a profile's spark-submit flags

A stage adds what its job declares it needs (``lib.resources``): ``python -m jobs.base
spark-submit-args STAGE --profile gpu`` prints the flags spark-submit.sh passes on.
"""
from __future__ import annotations

import argparse
import copy
import difflib
import hashlib
import os
import re
import sys
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable

import yaml

from lib.jvm_archive import archive_options
from lib.jars import cached_jars, jars_dir
from lib.resources import Resources, executor_gpus

CONF_DIR = Path(os.environ.get("WEBFAQ_CONF_DIR", Path(__file__).resolve().parent.parent / "conf"))
PROFILES = ("local", "cluster", "databricks", "gpu")


class ConfError(ValueError):
    """A profile, key or value of the configuration is missing or wrong."""


def _deep_merge(base: dict, top: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in (top or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _read_yaml(path: Path) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
    except yaml.YAMLError as exc:
        raise ConfError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfError(f"{path}: expected a mapping at the top level")
    return data


def set_key(conf: dict, dotted: str, value: Any) -> None:
    """Set ``conf[a][b][c] = value`` for ``dotted = 'a.b.c'``, creating mappings on the way.

    A key segment may contain dots itself when quoted with brackets, as Spark settings do:
    ``spark.conf.[spark.sql.shuffle.partitions]``.
    """
    parts = _split_key(dotted)
    node = conf
    for part in parts[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[parts[-1]] = value


def _split_key(dotted: str) -> list[str]:
    parts, buf, depth = [], "", 0
    for ch in dotted:
        if ch == "[":
            depth += 1
            continue
        if ch == "]":
            depth -= 1
            continue
        if ch == "." and depth == 0:
            parts.append(buf)
            buf = ""
        else:
            buf += ch
    parts.append(buf)
    if any(not p for p in parts):
        raise ConfError(f"bad configuration key {dotted!r}")
    return parts


def parse_override(item: str) -> tuple[str, Any]:
    """``'extract.needle=FAQPage'`` -> ``('extract.needle', 'FAQPage')``; the value is read as YAML."""
    if "=" not in item:
        raise ConfError(f"--conf takes KEY=VALUE, got {item!r}")
    key, raw = item.split("=", 1)
    try:
        value = yaml.safe_load(raw) if raw != "" else ""
    except yaml.YAMLError:
        value = raw
    return key.strip(), value


#: Sections whose keys are free (any Spark setting may be passed on).
FREE_SECTIONS = (("spark", "conf"),)
#: Keys that take ``null`` although their default is set (base.yaml says what null means).
NULLABLE_KEYS = frozenset({"annotate.truncate_dim"})


def _dotted(parts: tuple[str, ...]) -> str:
    return ".".join(f"[{p}]" if "." in p else p for p in parts)


def _leaves(node: dict, prefix: tuple[str, ...] = ()) -> Iterable[tuple[tuple[str, ...], Any]]:
    for key, value in node.items():
        parts = (*prefix, str(key))
        yield parts, value
        if isinstance(value, dict) and parts not in FREE_SECTIONS:
            yield from _leaves(value, parts)


def known_keys(conf_dir: Path | None = None) -> dict[tuple[str, ...], set[type]]:
    """Every key of base.yaml and the profiles, with the types its values have there
    (an empty set where every file says null)."""
    conf_dir = Path(conf_dir or CONF_DIR)
    keys: dict[tuple[str, ...], set[type]] = {("profile",): {str}}
    for path in sorted(conf_dir.glob("*.yaml")):
        for parts, value in _leaves(_read_yaml(path)):
            types = keys.setdefault(parts, set())
            if value is not None:
                types.add(type(value))
    return keys


_TYPE_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "a string",
               list: "a list such as [a, b]", dict: "a mapping such as {a: 1}"}


def check_override(key: str, value: Any, raw: str, keys: dict[tuple[str, ...], set[type]]) -> Any:
    """The override's value once checked against the type of the key in base.yaml and the
    profiles; ConfError for an unknown key (naming the nearest known one) or a wrong type."""
    parts = tuple(_split_key(key))
    if any(parts[:len(free)] == free and len(parts) > len(free) for free in FREE_SECTIONS):
        return value
    if parts not in keys:
        names = sorted(_dotted(p) for p in keys)
        nearest = difflib.get_close_matches(key, names, n=1, cutoff=0.0)
        hint = f" (did you mean {nearest[0]!r}?)" if nearest else ""
        raise ConfError(f"unknown configuration key {key!r}{hint}; "
                        f"'python -m lib.conf show' prints every key")
    types = keys[parts]
    if not types:
        return value  # null everywhere: no type to check against
    if value is None:
        if key in NULLABLE_KEYS:
            return value
        raise ConfError(f"--conf {key}: needs {_TYPE_NAMES.get(next(iter(types)), 'a value')}, not null")
    if type(value) in types:
        return value
    if float in types and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if float in types and isinstance(value, str):
        try:  # YAML 1.1 reads 2e-5 (no dot) as a string; a number key takes it as the number it is
            return float(value)
        except ValueError:
            pass
    if str in types and not isinstance(value, (dict, list)):
        return raw.strip()
    wanted = " or ".join(sorted(_TYPE_NAMES.get(t, t.__name__) for t in types))
    raise ConfError(f"--conf {key}={raw}: {key} takes {wanted}")


def profile_names(profile: str) -> list[str]:
    """The profiles of a ``--profile`` value: ``"cluster,gpu"`` -> ``["cluster", "gpu"]``."""
    names = [name.strip() for name in str(profile).split(",")]
    if not profile or any(not name for name in names):
        raise ConfError(f"bad profile {profile!r}: name one profile or several separated by commas (cluster,gpu)")
    return names


def stack_profiles(*profiles: str) -> str:
    """Profiles stacked left to right, each once: ``stack_profiles("cluster", "gpu") == "cluster,gpu"``."""
    names: list[str] = []
    for profile in profiles:
        names += [name for name in profile_names(profile) if name not in names]
    return ",".join(names)


def load_conf(profile: str = "local", overrides: Iterable[str] = (), conf_dir: Path | None = None) -> dict:
    """The merged configuration of ``profile`` with ``KEY=VALUE`` overrides applied.

    ``profile`` names one profile or several separated by commas (``cluster,gpu``): each is merged
    over base.yaml and the ones before it, left to right, so the last one wins where two set the
    same key. An override must name a key of base.yaml or a profile (any key under
    ``spark.conf``), and its value must have that key's type (an integer where base.yaml has one,
    ...): else :class:`ConfError`, with the nearest known key for a misspelt one.
    """
    conf_dir = Path(conf_dir or CONF_DIR)
    conf = _read_yaml(conf_dir / "base.yaml")
    for name in profile_names(profile):
        path = conf_dir / f"{name}.yaml"
        if name == "base" or not path.is_file():
            known = sorted(p.stem for p in conf_dir.glob("*.yaml") if p.stem != "base")
            raise ConfError(f"unknown profile {name!r}: no {path} (profiles: {', '.join(known)})")
        conf = _deep_merge(conf, _read_yaml(path))
    conf["profile"] = ",".join(profile_names(profile))
    keys = known_keys(conf_dir) if overrides else {}
    for item in overrides:
        key, value = parse_override(item)
        value = check_override(key, value, item.split("=", 1)[1], keys)
        set_key(conf, key, value)
    return conf


_MISSING = object()


def get(conf: dict, dotted: str, default: Any = _MISSING) -> Any:
    """The value at a dotted key; without a default a missing key raises ConfError naming it."""
    node: Any = conf
    for part in _split_key(dotted):
        if not isinstance(node, dict) or part not in node:
            if default is _MISSING:
                raise ConfError(f"configuration key {dotted!r} is not set (profile {conf.get('profile')!r})")
            return default
        node = node[part]
    return node


_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:/")  # a scheme of two letters or more, then a slash


def absolute_location(location: str) -> str:
    """A folder or file given in the configuration or on the command line, as every stage uses it:
    a URI (``s3a://bucket/x``, ``dbfs:/x``, ``file:///x``) as it is, a path made absolute (relative
    paths are taken from the working directory)."""
    location = str(location)
    return location if _URI.match(location) else os.path.abspath(location)


def cache_dir(conf: dict | None = None) -> str:
    """The folder of the files the suite generates for itself (``cache_dir`` in the configuration,
    else ``$WEBFAQ_CACHE_DIR``, else ``$XDG_CACHE_HOME/webfaq-spark``, else ``~/.cache/webfaq-spark``),
    absolute: the same folder from any working directory."""
    folder = (get(conf, "cache_dir", None) if conf else None) or os.environ.get("WEBFAQ_CACHE_DIR")
    if not folder:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        folder = os.path.join(base, "webfaq-spark")
    folder = str(folder)
    if _URI.match(folder) and not folder.startswith("file:"):
        raise ConfError(f"cache_dir must be a local folder, not {folder}")
    return os.path.abspath(os.path.expanduser(folder.removeprefix("file://").removeprefix("file:")))


def cache_path(conf: dict | None, path: str) -> str:
    """``path`` inside the cache folder (:func:`cache_dir`); an absolute path stays as it is."""
    return os.path.join(cache_dir(conf), os.path.expanduser(str(path)))


def location_key(location: str) -> str:
    """A short folder name for a table's location, so that caches of two warehouses never mix."""
    return hashlib.sha256(str(location).encode("utf-8")).hexdigest()[:16]


def verbose(conf: dict) -> bool:
    """Whether the run shows Spark's INFO lines and Ivy's report (``console.verbose``, --verbose)."""
    return bool(get(conf, "console.verbose", False))


def log4j2_options(conf: dict) -> str:
    """The driver's JVM option that keeps Spark's logging to warnings (``console.log4j2``), or ""
    for a verbose run or where the file is not there (Spark's own defaults then)."""
    name = get(conf, "console.log4j2", None)
    deploy_mode = str((get(conf, "spark.conf", {}) or {}).get("spark.submit.deployMode", "client"))
    if verbose(conf) or not name or deploy_mode == "cluster":  # a driver elsewhere has its own logging
        return ""
    path = Path(CONF_DIR, str(name)).resolve()
    return f"-Dlog4j2.configurationFile={path.as_uri()}" if path.is_file() else ""


def table_path(conf: dict, table: str) -> str:
    """Location of a Delta table: ``<warehouse>/<tables.<table>>``."""
    name = get(conf, f"tables.{table}")
    warehouse = absolute_location(str(get(conf, "warehouse")).rstrip("/"))
    return f"{warehouse}/{name}"


def quote_identifier(name: str) -> str:
    """A catalog, schema or table name as a Spark SQL identifier: ```name```, backticks doubled."""
    return "`" + str(name).replace("`", "``") + "`"


def catalog_schema(conf: dict) -> str | None:
    """The schema tables are registered in (``catalog.name``, ``catalog.schema``), quoted:
    ```main`.`webfaq``` or ```webfaq``` (the session's current catalog); None when no schema is
    set (path-only). ConfError for a catalog without a schema."""
    catalog, schema = (str(get(conf, f"catalog.{key}", None) or "").strip() for key in ("name", "schema"))
    if not schema:
        if catalog:
            raise ConfError(f"catalog.name={catalog} needs catalog.schema, the schema to register the tables in")
        return None
    return ".".join(quote_identifier(part) for part in (catalog, schema) if part)


def table_name(conf: dict, table: str) -> str | None:
    """The name a table is registered under (```main`.`webfaq`.`qa_pairs```), or None when tables
    are path-only (no ``catalog.schema``)."""
    schema = catalog_schema(conf)
    return f"{schema}.{quote_identifier(get(conf, f'tables.{table}'))}" if schema else None


def delta_maven_coordinate() -> str:
    """``io.delta:delta-spark_<spark minor>_2.13:<delta version>`` for the installed pair.

    The same coordinate ``delta.configure_spark_with_delta_pip`` adds, computed without Spark.
    """
    try:
        delta_version = metadata.version("delta-spark")
        spark_version = metadata.version("pyspark")
    except metadata.PackageNotFoundError as exc:
        raise ConfError(f"{exc.name} is not installed: pip install -e . (see setup.py)") from exc
    spark_minor = ".".join(spark_version.split(".")[:2])
    return f"io.delta:delta-spark_{spark_minor}_2.13:{delta_version}"


def spark_settings(conf: dict, resources: Resources | None = None) -> dict[str, str]:
    """The Spark settings a session of this profile needs (Delta jars included when asked), with
    those of a stage's declared ``resources`` (its GPU request only where executors have GPUs), the
    class-data archive in the cache folder and, unless the run is verbose, the quiet log4j2 file.

    Maven packages are asked for as ``spark.jars.packages`` until a session has recorded their
    jars in the profile's ``spark.jars_cache`` folder (:mod:`lib.jars`), and as ``spark.jars``
    (those files, no resolution) from then on.
    """
    settings = {str(k): str(v) for k, v in (get(conf, "spark.conf", {}) or {}).items()}
    if resources is not None:
        settings.update(resources.spark_settings(executor_gpus(settings)))
    archive = get(conf, "spark.class_data_archive", None)
    if archive:
        options = settings.get("spark.driver.extraJavaOptions", "")
        archive = archive_options(cache_path(conf, str(archive)), options,
                                  settings.get("spark.driver.extraClassPath", ""))
        settings["spark.driver.extraJavaOptions"] = f"{options} {archive}".strip()
    quiet = log4j2_options(conf)
    if quiet:
        options = settings.get("spark.driver.extraJavaOptions", "")
        settings["spark.driver.extraJavaOptions"] = f"{options} {quiet}".strip()
    if get(conf, "spark.delta_jars", True):
        packages = [p for p in settings.get("spark.jars.packages", "").split(",") if p]
        coordinate = delta_maven_coordinate()
        if coordinate not in packages:
            packages.append(coordinate)
        settings["spark.jars.packages"] = ",".join(packages)
    folder = jars_folder(conf, settings)
    cached = cached_jars(folder) if folder is not None else None
    if cached is not None:  # resolved before: start from the folder, no Ivy run
        del settings["spark.jars.packages"]
        settings["spark.jars"] = ",".join([j for j in settings.get("spark.jars", "").split(",") if j] + cached)
    return settings


def jars_folder(conf: dict, settings: dict[str, str]) -> Path | None:
    """Where the jars of the Maven packages in ``settings`` are (or will be) kept once resolved
    (``lib.jars``), or None without packages or without ``spark.jars_cache``. A relative
    ``spark.jars_cache`` is taken from the cache folder (:func:`cache_dir`)."""
    root = get(conf, "spark.jars_cache", None)
    packages = [p for p in settings.get("spark.jars.packages", "").split(",") if p.strip()]
    if not root or not packages:
        return None
    return jars_dir(cache_path(conf, str(root)), packages)


def spark_submit_args(conf: dict, resources: Resources | None = None) -> list[str]:
    """Command-line flags for spark-submit: master, packages and ``--conf`` settings (with those of
    a stage's declared ``resources``)."""
    args: list[str] = []
    master = get(conf, "spark.master", None)
    if master:
        args += ["--master", str(master)]
    settings = spark_settings(conf, resources)
    packages = settings.pop("spark.jars.packages", None)
    if packages:
        args += ["--packages", packages]
    jars = settings.pop("spark.jars", None)
    if jars:
        args += ["--jars", jars]
    driver_memory = settings.pop("spark.driver.memory", None)
    if driver_memory:
        args += ["--driver-memory", driver_memory]
    for key, value in settings.items():
        args += ["--conf", f"{key}={value}"]
    return args


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.conf", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["show", "spark-submit-args"],
                        help="show: print the merged configuration as YAML; "
                             "spark-submit-args: print the spark-submit flags of the profile, one a line")
    parser.add_argument("--profile", default="local",
                        help="configuration profile, or several stacked left to right (cluster,gpu); default: local")
    parser.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE",
                        help="override a configuration value (repeatable)")
    args = parser.parse_args(argv)
    try:
        conf = load_conf(args.profile, args.conf)
        if args.command == "show":
            yaml.safe_dump(conf, sys.stdout, sort_keys=False)
        else:
            print("\n".join(spark_submit_args(conf)))
    except ConfError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
