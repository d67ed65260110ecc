"""Network building blocks: architectures, layer geometry, initializers, seeds."""
