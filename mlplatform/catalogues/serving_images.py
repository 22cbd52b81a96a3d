"""Serving container images, resolved offline with the SageMaker Python SDK.

``sagemaker.core.image_uris.retrieve`` reads the image tables bundled with the SDK (no
AWS call), so the plan shows the exact image a model will run. The spec's version is the
framework's own ("1.7" for XGBoost); SageMaker's first-party XGBoost and scikit-learn
containers carry a build suffix ("1.7-1"), and Hugging Face containers need the base
PyTorch version, so both are read from the SDK's tables rather than written here.
ONNX models are served by NVIDIA Triton (SageMaker's ``sagemaker-tritonserver`` image).
"""

from __future__ import annotations

import functools
from typing import Optional

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


@functools.lru_cache(maxsize=None)
def resolve_image(framework: str, version: str, region: str, instance_type: Optional[str], model_format: str) -> str:
    """The serving image URI for a model; raises :class:`ImageResolutionError` when there is none."""
    probe = instance_type or SERVERLESS_PROBE_TYPE
    try:
        if model_format == "onnx":
            return _image_uris().retrieve("sagemaker-tritonserver", region=region, version=TRITON_VERSION,
                                          instance_type=probe, image_scope="inference")
        sdk_version, base = _sdk_version(framework, version)
        extra = {"base_framework_version": base} if base else {}
        return _image_uris().retrieve(SDK_FRAMEWORK[framework], region=region, version=sdk_version,
                                      instance_type=probe, image_scope="inference", **extra)
    except (ValueError, KeyError) as exc:
        reason = str(exc).split(". You may need")[0]
        raise ImageResolutionError(
            f"no SageMaker serving image for {framework} {version} ({model_format}) on {probe} in {region}: {reason}"
        ) from None
