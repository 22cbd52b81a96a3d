"""Facts the platform reads, not resources it creates: the instance catalogue (GPUs,
vCPUs, local storage, sourced), the one GPU accounting rule built on it, and the
SageMaker serving images. Core layer: the spec, validate, the components and the
checkers all read them, and they import nothing above the core."""
