"""Serving container images, resolved offline with the SageMaker Python SDK.

``sagemaker.core.image_uris.retrieve`` reads the image tables bundled with the SDK (no
AWS call), so the plan shows the exact image a model will run. The spec's version is the
framework's own ("1.7" for XGBoost); SageMaker's first-party XGBoost and scikit-learn
containers carry a build suffix ("1.7-1"), and Hugging Face containers need the base
PyTorch version, so both are read from the SDK's tables rather than written here.
ONNX models are served by NVIDIA Triton (SageMaker's ``sagemaker-tritonserver`` image).

Importing the SDK costs about two seconds of CPU, most of ``mlp validate`` on a large
estate and a fifth of a one-team ``mlp ci``, while the answers only change with the SDK's
tables. So answers (images and refusals alike) are kept in a per-user cache file named
after the installed ``sagemaker-core`` release, which ships those tables
(``$MLP_CACHE_DIR/serving-images-sagemaker-core-<version>.json``): an SDK upgrade starts a
new file, and the SDK is imported only for a lookup the file does not hold. The cache is
an optimisation only: a missing, unreadable or corrupt file is ignored (and rewritten), and
a lookup's answer never depends on whether it came from the file.
"""

from __future__ import annotations

import functools
import json
import os
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Optional

from mlplatform.paths import cache_dir

#: Triton release used for ONNX models (a version in the SDK's sagemaker-tritonserver table).
TRITON_VERSION = "24.09"
#: Spec framework -> the SDK's framework key.
SDK_FRAMEWORK = {"pytorch": "pytorch", "tensorflow": "tensorflow", "xgboost": "xgboost",
                 "sklearn": "sklearn", "huggingface": "huggingface"}
#: CPU instance type the SDK is asked about for serverless endpoints (CPU only).
SERVERLESS_PROBE_TYPE = "ml.m5.large"


class ImageResolutionError(ValueError):
    """The SDK has no serving image for the spec's framework, version and instance type."""


@functools.lru_cache(maxsize=None)
def _image_uris():
    from sagemaker.core import image_uris  # heavy import: only when an image must be resolved

    return image_uris


def _version_key(text: str) -> tuple:
    return tuple(int(part) if part.isdigit() else part for part in text.replace("-", ".").split("."))


def _sdk_version(framework: str, version: str) -> tuple[str, Optional[str]]:
    """The SDK's version string for ``version`` and, for Hugging Face, the base framework."""
    config = _image_uris().config_for_framework(SDK_FRAMEWORK[framework])["inference"]
    versions = config["versions"]
    if framework in ("xgboost", "sklearn"):
        builds = [v for v in versions if v == version or v.startswith(f"{version}-")]
        return (max(builds, key=_version_key) if builds else version), None
    if framework == "huggingface":
        full = config.get("version_aliases", {}).get(version, version)
        bases = [key for key in versions.get(full, {}) if key.startswith("pytorch")]
        base = max(bases, key=lambda key: _version_key(key[len("pytorch"):])) if bases else None
        return version, base
    return version, None


#: The distribution that ships ``image_uris`` and its tables; its release names the cache file.
SDK_DISTRIBUTION = "sagemaker-core"


def cache_file() -> Optional[Path]:
    """This SDK release's answer file, or None when the SDK is not installed."""
    try:
        release = metadata.version(SDK_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None
    return cache_dir() / f"serving-images-{SDK_DISTRIBUTION}-{release}.json"


@functools.lru_cache(maxsize=1)
def _answers() -> dict[str, dict[str, str]]:
    """The cached answers of this SDK release (empty when there are none yet)."""
    path = cache_file()
    try:
        answers = json.loads(path.read_text()) if path is not None else {}
    except (OSError, ValueError):
        return {}
    return answers if isinstance(answers, dict) else {}


def _remember(key: str, answer: dict[str, str]) -> None:
    """Add one answer to the file: written whole to a temporary file, then renamed, so a
    reader never sees half a file and concurrent writers lose at most an answer."""
    answers = _answers()
    answers[key] = answer
    path = cache_file()
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=path.name, suffix=".tmp", delete=False) as out:
            json.dump(answers, out, sort_keys=True)
        os.replace(out.name, path)
    except OSError:
        pass  # a read-only home: the answer still holds for this process


@functools.lru_cache(maxsize=None)
def resolve_image(framework: str, version: str, region: str, instance_type: Optional[str], model_format: str) -> str:
    """The serving image URI for a model; raises :class:`ImageResolutionError` when there is none."""
    key = json.dumps([framework, version, region, instance_type, model_format])
    answer = _answers().get(key)
    if not isinstance(answer, dict) or ("image" not in answer and "error" not in answer):
        answer = _ask_sdk(framework, version, region, instance_type, model_format)
        _remember(key, answer)
    if "error" in answer:
        raise ImageResolutionError(answer["error"])
    return answer["image"]


def _ask_sdk(framework: str, version: str, region: str, instance_type: Optional[str], model_format: str) -> dict[str, str]:
    """The SDK's answer: ``{"image": uri}`` or ``{"error": why}``."""
    probe = instance_type or SERVERLESS_PROBE_TYPE
    try:
        if model_format == "onnx":
            return {"image": _image_uris().retrieve("sagemaker-tritonserver", region=region, version=TRITON_VERSION,
                                                    instance_type=probe, image_scope="inference")}
        sdk_version, base = _sdk_version(framework, version)
        extra = {"base_framework_version": base} if base else {}
        return {"image": _image_uris().retrieve(SDK_FRAMEWORK[framework], region=region, version=sdk_version,
                                                instance_type=probe, image_scope="inference", **extra)}
    except (ValueError, KeyError) as exc:
        reason = str(exc).split(". You may need")[0]
        return {"error": f"no SageMaker serving image for {framework} {version} ({model_format}) on {probe} "
                         f"in {region}: {reason}"}
