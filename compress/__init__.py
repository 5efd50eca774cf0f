"""sparsa's compression algorithms: weight tensors in, CompressedTensor out.

Shape conventions: Linear ``[out, in]``, conv ``[out, in / groups, kh, kw]``; the
reduction axis is ``in`` with the kernel window, flattened as ``w.reshape(out, -1)``
(the simulator's GEMM ``K``). See :mod:`compress.layout`.

The names below are imported from their modules on first use (:mod:`compress.lazy`),
so that ``import compress.errors`` does not import every algorithm.
"""

from compress.lazy import lazy_exports

__all__ = lazy_exports(
    __name__,
    {
        "compress.activations": (
            "ActivationSpec",
            "activation_densities",
            "calibrate_network",
            "parse_activation_spec",
        ),
        "compress.codec": ("build_tensor", "decode", "fake_quantize"),
        "compress.data": ("Digits", "load_digits_split"),
        "compress.encoding": (
            "CodebookValues",
            "FloatValues",
            "Fp32Values",
            "IntValues",
            "LowRankValues",
            "MXValues",
            "VectorValues",
        ),
        "compress.fixedpoint": (
            "FixedPointMultiplier",
            "Overflow",
            "quantize_multiplier",
            "requantize",
        ),
        "compress.huffman": ("HuffmanCode", "huffman_code", "huffman_decode", "huffman_encode"),
        "compress.integer_layer": ("IntegerLayer", "integer_layer", "quantize_activations"),
        "compress.integer_net": (
            "FloatAgreement",
            "IntegerNetwork",
            "IntegerRun",
            "float_agreement",
            "integer_network",
        ),
        "compress.integer_weights": (
            "IntegerWeights",
            "integer_weights",
            "integerize_codebook",
            "kept_matmul",
        ),
        "compress.io": ("load_compressed", "load_weights", "save_compressed"),
        "compress.kmeans": ("centroid_gradient", "kmeans_scalar", "kmeans_vectors"),
        "compress.lowrank": ("LowRank", "low_rank"),
        "compress.minifloat": (
            "E2M1",
            "E2M3",
            "E3M2",
            "E4M3",
            "E5M2",
            "FLOAT_FORMATS",
            "FloatFormat",
        ),
        "compress.model": ("CompressedModel", "StageReport"),
        "compress.mvq": ("MaskedVQ", "mvq"),
        "compress.mx": ("MX_FORMATS", "MXFormat", "MXQuantized", "mx_dequantize", "mx_quantize"),
        "compress.nets": ("MLP", "NETS", "SmallCNN", "get_net"),
        "compress.nm": ("nm_group_ranks", "nm_mask", "nm_metadata_bits", "nm_positions"),
        "compress.pipeline": ("compress_network", "compress_weights"),
        "compress.pool": ("PoolSpec", "WeightPool", "learn_pool"),
        "compress.prune": ("channel_mask", "global_magnitude_masks", "magnitude_mask"),
        "compress.quant": (
            "ActivationQuant",
            "Granularity",
            "IntQuantized",
            "IntSpec",
            "calibrate_activations",
            "dequantize_int",
            "quantize_int",
        ),
        "compress.recipe": ("Recipe", "load_recipe", "parse_recipe"),
        "compress.reference": ("LoadedModel", "load_model"),
        "compress.report": ("model_table",),
        "compress.sparse_index": ("RelativeIndex", "relative_index"),
        "compress.stats": (
            "GROUP_SIZES",
            "Codebook",
            "WeightStats",
            "declared_density_stats",
            "declared_stats",
            "group_maxima",
        ),
        "compress.tensor": (
            "CompressedTensor",
            "IndexKind",
            "Sparsity",
            "SparsityKind",
            "StorageBits",
        ),
        "compress.train": ("TrainConfig", "evaluate", "train_reference"),
    },
)
