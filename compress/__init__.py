"""sparsa's compression algorithms: weight tensors in, CompressedTensor out.

Shape conventions: Linear ``[out, in]``, conv ``[out, in / groups, kh, kw]``; the
reduction axis is ``in`` with the kernel window, flattened as ``w.reshape(out, -1)``
(the simulator's GEMM ``K``). See :mod:`compress.layout`.
"""

from compress.activations import (
    ActivationSpec,
    activation_densities,
    calibrate_network,
    parse_activation_spec,
)
from compress.codec import build_tensor, decode, fake_quantize
from compress.data import Digits, load_digits_split
from compress.encoding import (
    CodebookValues,
    FloatValues,
    Fp32Values,
    IntValues,
    LowRankValues,
    MXValues,
    VectorValues,
)
from compress.fixedpoint import FixedPointMultiplier, Overflow, quantize_multiplier, requantize
from compress.huffman import HuffmanCode, huffman_code, huffman_decode, huffman_encode
from compress.integer_layer import IntegerLayer, integer_layer, quantize_activations
from compress.integer_net import (
    FloatAgreement,
    IntegerNetwork,
    IntegerRun,
    float_agreement,
    integer_network,
)
from compress.integer_weights import (
    IntegerWeights,
    integer_weights,
    integerize_codebook,
    kept_matmul,
)
from compress.io import load_compressed, load_weights, save_compressed
from compress.kmeans import centroid_gradient, kmeans_scalar, kmeans_vectors
from compress.lowrank import LowRank, low_rank
from compress.minifloat import E2M1, E2M3, E3M2, E4M3, E5M2, FLOAT_FORMATS, FloatFormat
from compress.model import CompressedModel, StageReport
from compress.mvq import MaskedVQ, mvq
from compress.mx import MX_FORMATS, MXFormat, MXQuantized, mx_dequantize, mx_quantize
from compress.nets import MLP, NETS, SmallCNN, get_net
from compress.nm import nm_group_ranks, nm_mask, nm_metadata_bits, nm_positions
from compress.pipeline import compress_network, compress_weights
from compress.pool import PoolSpec, WeightPool, learn_pool
from compress.prune import channel_mask, global_magnitude_masks, magnitude_mask
from compress.quant import (
    ActivationQuant,
    Granularity,
    IntQuantized,
    IntSpec,
    calibrate_activations,
    dequantize_int,
    quantize_int,
)
from compress.recipe import Recipe, load_recipe, parse_recipe
from compress.reference import LoadedModel, load_model
from compress.report import model_table
from compress.sparse_index import RelativeIndex, relative_index
from compress.stats import (
    GROUP_SIZES,
    Codebook,
    WeightStats,
    declared_density_stats,
    declared_stats,
    group_maxima,
)
from compress.tensor import (
    CompressedTensor,
    IndexKind,
    Sparsity,
    SparsityKind,
    StorageBits,
)
from compress.train import TrainConfig, evaluate, train_reference

__all__ = [
    "E2M1",
    "E2M3",
    "E3M2",
    "E4M3",
    "E5M2",
    "FLOAT_FORMATS",
    "GROUP_SIZES",
    "MLP",
    "MX_FORMATS",
    "NETS",
    "ActivationQuant",
    "ActivationSpec",
    "Codebook",
    "CodebookValues",
    "CompressedModel",
    "CompressedTensor",
    "Digits",
    "FixedPointMultiplier",
    "FloatAgreement",
    "FloatFormat",
    "FloatValues",
    "Fp32Values",
    "Granularity",
    "HuffmanCode",
    "IndexKind",
    "IntQuantized",
    "IntSpec",
    "IntValues",
    "IntegerLayer",
    "IntegerNetwork",
    "IntegerRun",
    "IntegerWeights",
    "LoadedModel",
    "LowRank",
    "LowRankValues",
    "MXFormat",
    "MXQuantized",
    "MXValues",
    "MaskedVQ",
    "Overflow",
    "PoolSpec",
    "Recipe",
    "RelativeIndex",
    "SmallCNN",
    "Sparsity",
    "SparsityKind",
    "StageReport",
    "StorageBits",
    "TrainConfig",
    "VectorValues",
    "WeightPool",
    "WeightStats",
    "activation_densities",
    "build_tensor",
    "calibrate_activations",
    "calibrate_network",
    "centroid_gradient",
    "channel_mask",
    "compress_network",
    "compress_weights",
    "declared_density_stats",
    "declared_stats",
    "decode",
    "dequantize_int",
    "evaluate",
    "fake_quantize",
    "float_agreement",
    "get_net",
    "global_magnitude_masks",
    "group_maxima",
    "huffman_code",
    "huffman_decode",
    "huffman_encode",
    "integer_layer",
    "integer_network",
    "integer_weights",
    "integerize_codebook",
    "kept_matmul",
    "kmeans_scalar",
    "kmeans_vectors",
    "learn_pool",
    "load_compressed",
    "load_digits_split",
    "load_model",
    "load_recipe",
    "load_weights",
    "low_rank",
    "magnitude_mask",
    "model_table",
    "mvq",
    "mx_dequantize",
    "mx_quantize",
    "nm_group_ranks",
    "nm_mask",
    "nm_metadata_bits",
    "nm_positions",
    "parse_activation_spec",
    "parse_recipe",
    "quantize_activations",
    "quantize_int",
    "quantize_multiplier",
    "relative_index",
    "requantize",
    "save_compressed",
    "train_reference",
]
