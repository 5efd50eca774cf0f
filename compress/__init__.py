"""sparsa's compression algorithms: weight tensors in, CompressedTensor out."""

__all__: list[str] = []
