"""The serving-image answers are kept per SDK release, so validate and ci do not import the
SageMaker SDK (two seconds of CPU) for lookups it already answered, and an answer never
depends on where it came from."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlplatform.catalogues import serving_images
from mlplatform.catalogues.serving_images import ImageResolutionError, cache_file, resolve_image

ROOT = Path(__file__).resolve().parent.parent
GOOD = ("pytorch", "2.3", "eu-west-1", "ml.g5.xlarge", "framework-native")
BAD = ("pytorch", "9.9", "eu-west-1", "ml.g5.xlarge", "framework-native")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder for this test, and no answers remembered in this process."""
    monkeypatch.setenv("MLP_CACHE_DIR", str(tmp_path / "cache"))
    resolve_image.cache_clear()
    serving_images._answers.cache_clear()
    yield tmp_path / "cache"
    resolve_image.cache_clear()
    serving_images._answers.cache_clear()


def _fresh_process(*lookup: str, cache_folder: Path) -> dict:
    """Resolve in a new interpreter: its answer, and whether it had to import the SDK."""
    probe = ("import json, sys\n"
             "from mlplatform.catalogues.serving_images import ImageResolutionError, resolve_image\n"
             "try:\n    answer = {'image': resolve_image(*sys.argv[1:5], sys.argv[5])}\n"
             "except ImageResolutionError as exc:\n    answer = {'error': str(exc)}\n"
             "answer['sdk_imported'] = 'sagemaker.core' in sys.modules\n"
             "print(json.dumps(answer))\n")
    completed = subprocess.run([sys.executable, "-c", probe, *lookup], cwd=ROOT, capture_output=True, text=True,
                               env={**os.environ, "MLP_CACHE_DIR": str(cache_folder)}, check=True, timeout=300)
    return json.loads(completed.stdout)


def test_the_cache_file_is_named_after_the_sdk_release(cache):
    from importlib import metadata

    assert cache_file() == cache / f"serving-images-sagemaker-core-{metadata.version('sagemaker-core')}.json"


def test_an_answer_is_remembered_and_a_later_process_does_not_import_the_sdk(cache):
    first = _fresh_process(*GOOD, cache_folder=cache)
    assert first["sdk_imported"] and first["image"].endswith("/pytorch-inference:2.3-gpu-py311")
    stored = json.loads(cache_file().read_text())
    assert list(stored.values()) == [{"image": first["image"]}]
    second = _fresh_process(*GOOD, cache_folder=cache)
    assert second == {"image": first["image"], "sdk_imported": False}


def test_a_refusal_is_remembered_with_the_same_words(cache):
    first = _fresh_process(*BAD, cache_folder=cache)
    assert first["sdk_imported"] and first["error"].startswith("no SageMaker serving image for pytorch 9.9")
    second = _fresh_process(*BAD, cache_folder=cache)
    assert second == {"error": first["error"], "sdk_imported": False}


def test_a_corrupt_or_foreign_file_is_ignored_and_rewritten(cache):
    cache.mkdir(parents=True)
    cache_file().write_text("{not json")
    assert resolve_image(*GOOD).endswith("/pytorch-inference:2.3-gpu-py311")
    assert json.loads(cache_file().read_text())  # rewritten whole, valid
    serving_images._answers.cache_clear()
    resolve_image.cache_clear()
    key = json.dumps(list(GOOD))
    cache_file().write_text(json.dumps({key: {"unexpected": "shape"}}))
    assert resolve_image(*GOOD).endswith("/pytorch-inference:2.3-gpu-py311")  # asked the SDK again


def test_a_stored_answer_is_what_the_lookup_returns(cache):
    """The file is the answer's only source once it holds the key (it is read, not ignored)."""
    cache.mkdir(parents=True)
    key = json.dumps(list(GOOD))
    cache_file().write_text(json.dumps({key: {"image": "example.invalid/pinned:1"}}))
    assert resolve_image(*GOOD) == "example.invalid/pinned:1"
    cache_file().write_text(json.dumps({json.dumps(list(BAD)): {"error": "no image, as recorded"}}))
    serving_images._answers.cache_clear()
    with pytest.raises(ImageResolutionError, match="no image, as recorded"):
        resolve_image(*BAD)


def test_an_unwritable_cache_still_answers(cache, monkeypatch):
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text("a file where the folder should be")  # mkdir fails: OSError
    assert resolve_image(*GOOD).endswith("/pytorch-inference:2.3-gpu-py311")
