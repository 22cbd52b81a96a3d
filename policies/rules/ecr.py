"""MLP-ECR-*: image registries have immutable tags and scan images on push."""

from __future__ import annotations

from mlplatform.type_tokens import ECR_REPOSITORY

from .common import MANDATORY, Context, peek, rule


@rule(
    id="MLP-ECR-001",
    name="Immutable, scanned image registries",
    description="ECR repositories have immutable tags and scan images on push.",
    severity="medium",
    remediation="Set imageTagMutability IMMUTABLE and imageScanningConfiguration.scanOnPush true.",
    level=MANDATORY,
    types=(ECR_REPOSITORY,),
    concern="registry",
)
def check_registry(ctx: Context, report) -> None:
    if peek(ctx.props, "imageTagMutability") not in ("IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION"):
        report("image tags are mutable (imageTagMutability: IMMUTABLE)")
    if peek(ctx.props, "imageScanningConfiguration", "scanOnPush") is not True:
        report("images are not scanned on push")
