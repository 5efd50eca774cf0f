"""Apply a recipe to a network's weights, stage by stage, with optional fine-tuning.

Stages run over the whole network in order, as Deep Compression does:

1. structure: each layer's prune step gives its keep-mask (a global threshold is
   shared by the layers that ask for it); with fine-tuning, masked retraining;
2. values: each layer's value step is learned (k-means centroids, one weight pool per
   pool spec over all layers that use it, MVQ codewords, low-rank factors) or simply
   fixed (int / FP8 / MX); with fine-tuning, centroid / pool / codeword retraining or
   quantization-aware training with the straight-through estimator;
3. storage: the index encoding of unstructured layers is fixed (``auto`` takes the
   smaller of a bitmask and the best relative index at the layer's code width) and
   codes are Huffman coded where asked; one :class:`CompressedTensor` per layer.

Parameters that are not 2-D or 4-D (biases) stay float32 and keep training.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace

import numpy as np
from threadpoolctl import threadpool_limits

from compress.activations import (
    ActivationSpec,
    activation_hooks,
    calibrate_network,
    parse_activation_spec,
)
from compress.codec import build_tensor
from compress.data import Digits
from compress.encoding import (
    CodebookValues,
    Encoding,
    FloatValues,
    Fp32Values,
    IntValues,
    LowRankValues,
    MXValues,
    VectorValues,
)
from compress.errors import InputError
from compress.finetune import (
    Centroids,
    Codewords,
    CompressedParametrization,
    Fixed,
    Masked,
    Pooled,
    Quantized,
)
from compress.kmeans import ScalarClusters, kmeans_scalar
from compress.layout import check_weight
from compress.lowrank import low_rank
from compress.minifloat import FLOAT_FORMATS
from compress.model import CompressedModel, StageReport
from compress.mvq import MaskedVQ, mvq
from compress.nm import nm_mask
from compress.pool import PooledLayer, learn_pool
from compress.prune import channel_mask, global_magnitude_masks, magnitude_mask
from compress.recipe import (
    FloatStep,
    IntStep,
    KMeansStep,
    LayerRecipe,
    LowRankStep,
    MVQStep,
    MXStep,
    PoolStep,
    PruneStep,
    Recipe,
    load_recipe,
)
from compress.sparse_index import best_gap_bits, relative_index
from compress.tensor import (
    IndexKind,
    Sparsity,
    SparsityKind,
)
from compress.train import FINETUNE_LR, TrainConfig, evaluate, fit

__all__ = ["compress_network", "compress_weights"]

log = logging.getLogger(__name__)

Params = dict[str, np.ndarray]


def _plan(params: Mapping[str, np.ndarray], recipe: Recipe) -> dict[str, LayerRecipe]:
    """The recipe of every compressible (2-D or 4-D) parameter; checks override names."""
    names = [k for k, v in params.items() if np.ndim(v) in (2, 4)]
    if not names:
        shapes = ", ".join(f"{k} {np.shape(v)}" for k, v in list(params.items())[:8])
        raise InputError(f"no 2-D or 4-D weight tensors to compress (the arrays: {shapes})")
    return recipe.plan(names)


def _masks(weights: Params, plan: dict[str, LayerRecipe]) -> dict[str, np.ndarray]:
    masks: dict[str, np.ndarray] = {}
    global_groups: dict[float, list[str]] = {}
    for name, layer in plan.items():
        step = layer.prune
        if step is None:
            continue
        if step.method == "global":
            global_groups.setdefault(step.amount, []).append(name)
        elif step.method == "nm":
            masks[name] = nm_mask(weights[name], *step.nm)
        elif step.method == "channel":
            masks[name] = channel_mask(weights[name], step.amount, step.norm)
        else:
            masks[name] = magnitude_mask(weights[name], step.amount)
    for amount, names in global_groups.items():
        masks |= global_magnitude_masks({n: weights[n] for n in names}, amount)
    return masks


def _rounds(plan: dict[str, LayerRecipe]) -> int:
    """Pruning rounds during fine-tuning: the most any magnitude prune step asks for."""
    steps = [lay.prune for lay in plan.values() if lay.prune is not None]
    return max([s.rounds for s in steps if s.method in ("magnitude", "global")], default=1)


def _scaled_plan(plan: dict[str, LayerRecipe], fraction: float) -> dict[str, LayerRecipe]:
    """The plan with magnitude/global prune amounts multiplied by ``fraction``."""
    scaled = {}
    for name, layer in plan.items():
        step = layer.prune
        if step is not None and step.method in ("magnitude", "global"):
            steps = tuple(
                replace(s, amount=s.amount * fraction) if s is step else s for s in layer.steps
            )
            layer = LayerRecipe(steps, layer.text)
        scaled[name] = layer
    return scaled


def _encoding(step, mask, pool_key: str | None = None, rank: int = 0) -> Encoding:
    if isinstance(step, IntStep):
        return IntValues(step.spec)
    if isinstance(step, FloatStep):
        return FloatValues(FLOAT_FORMATS[step.format], step.scale)
    if isinstance(step, MXStep):
        return MXValues(step.format)
    if isinstance(step, KMeansStep):
        return CodebookValues(step.bits, zero_centroid=mask is not None)
    if isinstance(step, PoolStep):
        spec = step.spec
        return VectorValues("pool", spec.index_bits, spec.vector_length, pool_key, spec.scale)
    if isinstance(step, MVQStep):
        return VectorValues("mvq", step.bits, step.vector_length)
    if isinstance(step, LowRankStep):
        return LowRankValues(rank)
    return Fp32Values()


def _sparsity(mask: np.ndarray | None, step: PruneStep | None, code_bits: int) -> Sparsity:
    if mask is None:
        return Sparsity()
    if step.method == "nm":
        index = IndexKind.NM_POSITIONS if step.meta == "positions" else IndexKind.NM_MINIMAL
        return Sparsity(SparsityKind.NM, mask, index, step.nm)
    if step.method == "channel":
        return Sparsity(SparsityKind.CHANNEL, mask, IndexKind.CHANNEL)
    gap = step.gap_bits or best_gap_bits(mask, code_bits)
    relative = relative_index(mask, gap)
    use_relative = step.index == "relative" or (
        step.index == "auto"
        and relative.entries * (gap + code_bits) < mask.size + mask.sum() * code_bits
    )
    if use_relative:
        return Sparsity(SparsityKind.UNSTRUCTURED, mask, IndexKind.RELATIVE, relative=relative)
    return Sparsity(SparsityKind.UNSTRUCTURED, mask, IndexKind.BITMASK)


def _pool_keys(plan: dict[str, LayerRecipe]) -> dict[str, str]:
    specs = sorted(
        {lay.value.spec for lay in plan.values() if isinstance(lay.value, PoolStep)}, key=str
    )
    keys = {}
    for spec in specs:
        key = f"pool{spec.pool_size}x{spec.vector_length}"
        if len(specs) > 1:
            key += f"-{spec.metric}-{spec.scale}"
        keys.update(
            {
                n: key
                for n, lay in plan.items()
                if isinstance(lay.value, PoolStep) and lay.value.spec == spec
            }
        )
    return keys


def _learn(weights: Params, masks: dict, plan: dict[str, LayerRecipe], seed: int):
    """What the value steps learn: per-layer results and the shared pools."""
    learned: dict[str, object] = {}
    pools: Params = {}
    keys = _pool_keys(plan)
    for key in sorted(set(keys.values())):
        members = [n for n in keys if keys[n] == key]
        pool = learn_pool(
            {n: weights[n] for n in members},
            plan[members[0]].value.spec,
            {n: masks[n] for n in members if n in masks},
            seed=seed,
        )
        pools[key] = pool.codewords
        learned.update(pool.layers)
    for name, layer in plan.items():
        step, mask = layer.value, masks.get(name)
        if isinstance(step, KMeansStep):
            kept = weights[name] if mask is None else weights[name][mask]
            learned[name] = kmeans_scalar(kept, step.bits, zero_centroid=mask is not None)
        elif isinstance(step, MVQStep):
            learned[name] = mvq(weights[name], mask, step.bits, step.vector_length, seed=seed)
        elif isinstance(step, LowRankStep):
            learned[name] = low_rank(weights[name], step.energy, step.ratio)
    return learned, pools, keys


def _index_grid(mask: np.ndarray | None, index: np.ndarray, shape) -> np.ndarray:
    grid = np.zeros(shape, np.int64)
    if mask is None:
        grid[...] = index.reshape(shape)
    else:
        grid[mask] = index
    return grid


def _form(name, layer, weights, masks, learned, keys):
    step, mask, found = layer.value, masks.get(name), learned.get(name)
    if isinstance(step, KMeansStep):
        grid = _index_grid(mask, found.index, weights[name].shape)
        keep = np.ones(grid.shape, bool) if mask is None else mask
        return Centroids(keep, grid, found.centroids, mask is not None)
    if isinstance(step, PoolStep):
        return Pooled(mask, keys[name], step.spec, found.index, found.scales, step.reassign)
    if isinstance(step, MVQStep):
        return Codewords(mask, found.index, found.codewords)
    if isinstance(step, LowRankStep):
        return Fixed(found.reconstruct())
    if step is not None:
        return Quantized(mask, _encoding(step, mask))
    return Masked(mask) if mask is not None else None


def _after_value_finetune(t: Params, forms, learned, pools, masks) -> None:
    """Read the learned state back out of the trained trainables."""
    for name, form in forms.items():
        if isinstance(form, Centroids):
            learned[name] = ScalarClusters(t[f"{name}:centroids"], form.index[form.mask])
        elif isinstance(form, Pooled):
            learned[name] = PooledLayer(form.index, t[f"{name}:scales"])
            pools[form.pool_key] = t[form.pool_key]
        elif isinstance(form, Codewords):
            learned[name] = MaskedVQ(t[f"{name}:codewords"], form.index)


def _build(weights, masks, plan, learned, pools, keys, huffman: bool, fp32: bool = False):
    """One CompressedTensor per layer (``fp32``: values left float32, for the prune stage)."""
    tensors = {}
    for name, layer in plan.items():
        mask, found = masks.get(name), learned.get(name)
        step = None if fp32 else layer.value
        rank = found.rank if isinstance(step, LowRankStep) else 0
        encoding = _encoding(step, mask, keys.get(name), rank)
        sparsity = _sparsity(mask, layer.prune, encoding.code_bits)
        tensors[name] = build_tensor(
            name,
            weights[name],
            sparsity,
            encoding,
            learned=None if fp32 else found,
            codebook=pools.get(keys.get(name)),
            huffman=huffman and layer.huffman and not fp32,
        )
    return tensors


def _finetune(net, params, forms, shared, data: Digits, epochs, seed, lr) -> Params:
    parametrization = CompressedParametrization(params, forms, shared)
    config = TrainConfig(epochs=epochs, lr=lr)
    return fit(net, parametrization, data.x_train, data.y_train, config, seed), parametrization


def _stage_name(plan: dict[str, LayerRecipe]) -> str:
    kinds = {type(layer.value).__name__ for layer in plan.values() if layer.value is not None}
    names = {"IntStep": "quantize", "FloatStep": "quantize", "MXStep": "quantize"}
    named = {names.get(k, k.removesuffix("Step").lower()) for k in kinds}
    return named.pop() if len(named) == 1 else "values"


class _Run:
    """The state of one recipe application (internal; the result is a CompressedModel)."""

    def __init__(self, net, params: Params, plan, data, epochs: int, seed: int, lr: float):
        self.net, self.plan, self.data = net, plan, data
        self.epochs, self.seed, self.lr = epochs, seed, lr
        self.params = dict(params)
        self.extra = {k: v for k, v in params.items() if k not in plan}
        self.stages: list[StageReport] = []

    def score(self, params: Params, quant: dict | None = None) -> float | None:
        if self.net is None or self.data is None:
            return None
        hooks = activation_hooks(quant) if quant else None
        return evaluate(self.net, params, self.data.x_test, self.data.y_test, hooks)

    def record(self, name: str, tensors: dict, shared: Params, quant: dict | None = None) -> None:
        model = CompressedModel("", "", tensors, shared, self.extra)
        accuracy = self.score(model.params(), quant)
        self.stages.append(StageReport(name, model.total_bits, model.ratio_fp32, accuracy))

    def compress(self) -> tuple[dict, Params]:
        """Structure, values, storage: the tensors and the shared pools."""
        plan = self.plan
        masks = self.structure()
        learned, pools, keys = self.values(masks)
        tensors = _build(self.params, masks, plan, learned, pools, keys, huffman=False)
        if any(layer.value is not None for layer in plan.values()):
            self.record(_stage_name(plan), tensors, pools)
        if any(layer.huffman for layer in plan.values()):
            tensors = _build(self.params, masks, plan, learned, pools, keys, huffman=True)
            self.record("huffman", tensors, pools)
        return tensors, pools

    def tuning(self) -> bool:
        return self.epochs > 0 and self.net is not None and self.data is not None

    def structure(self) -> dict[str, np.ndarray]:
        """Masks, then masked retraining. With ``rounds=R`` magnitude pruning is gradual:
        round ``r`` prunes ``a * (1 - (1 - r / R)**3)`` (Zhu and Gupta, 2017) and retrains
        ``epochs / R`` epochs."""
        masks = _masks(self.params, self.plan)
        if masks and self.tuning():
            rounds = min(_rounds(self.plan), self.epochs)
            for r in range(1, rounds + 1):
                masks = _masks(self.params, _scaled_plan(self.plan, 1 - (1 - r / rounds) ** 3))
                epochs = self.epochs // rounds + (self.epochs % rounds if r == rounds else 0)
                forms = {n: Masked(m) for n, m in masks.items()}
                t, _ = _finetune(
                    self.net, self.params, forms, {}, self.data, epochs, self.seed + r - 1, self.lr
                )
                self.params.update(
                    {k: t[k] * masks[k] if k in masks else t[k] for k in self.params}
                )
            self.extra = {k: self.params[k] for k in self.extra}
        if masks:
            self.record("prune", _build(self.params, masks, self.plan, {}, {}, {}, False, True), {})
        return masks

    def values(self, masks):
        learned, pools, keys = _learn(self.params, masks, self.plan, self.seed)
        forms = {
            n: _form(n, lay, self.params, masks, learned, keys) for n, lay in self.plan.items()
        }
        forms = {n: f for n, f in forms.items() if f is not None}
        if self.tuning() and forms:
            t, tuned = _finetune(
                self.net, self.params, forms, pools, self.data, self.epochs, self.seed, self.lr
            )
            self.params.update({k: t[k] for k in self.params})
            self.extra = {k: t[k] for k in self.extra}
            _after_value_finetune(t, tuned.forms, learned, pools, masks)
        return learned, pools, keys


def compress_network(
    net,
    params: Mapping[str, np.ndarray],
    recipe: Recipe | str,
    data: Digits | None = None,
    finetune_epochs: int = 0,
    seed: int = 0,
    lr: float = FINETUNE_LR,
    model: str | None = None,
    activations: ActivationSpec | str | None = None,
) -> CompressedModel:
    """Compress every 2-D / 4-D parameter of ``params`` with ``recipe``.

    With a network ``net`` (a :mod:`compress.nets` model) and ``data``, accuracy is
    measured before, after each stage and at the end, and ``finetune_epochs > 0``
    fine-tunes after the structure and the value stages (Adam, learning rate ``lr``).
    ``activations`` (``'int8'``, ``'int8 percentile'``, see
    :mod:`compress.activations`) also quantizes every layer's input, calibrated on
    training data; the final accuracy and an ``activations`` stage include it.
    Deterministic for a given ``seed``.
    """
    recipe = load_recipe(recipe) if isinstance(recipe, str) else recipe
    if isinstance(activations, str):
        activations = parse_activation_spec(activations)
    epochs = finetune_epochs
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"finetune epochs must be an integer >= 0, not {epochs!r}")
    if activations is not None and (net is None or data is None):
        raise ValueError("quantized activations need a known network and its data")
    params = {k: np.asarray(v, dtype=np.float32) for k, v in params.items()}
    plan = _plan(params, recipe)
    for name in plan:
        params[name] = check_weight(params[name], name)
    with threadpool_limits(limits=1, user_api="blas"):
        run = _Run(net, params, plan, data, epochs, seed, lr)
        before = run.score(params)
        tensors, pools = run.compress()
        result = CompressedModel(
            model or getattr(net, "name", "weights"), recipe.text, tensors, pools, run.extra,
            before, None, (), seed, epochs,
        )  # fmt: skip
        quant = {}
        if activations is not None:
            quant = calibrate_network(net, result.params(), data.x_train, activations)
            run.record(f"activations {activations.text}", tensors, pools, quant)
        after = run.score(result.params(), quant)
    return replace(result, accuracy_after=after, stages=tuple(run.stages), activations=quant)


def compress_weights(
    weights: Mapping[str, np.ndarray], recipe: Recipe | str, seed: int = 0, model: str = "weights"
) -> CompressedModel:
    """Compress named weight arrays without a network (no accuracy, no fine-tuning)."""
    return compress_network(None, weights, recipe, seed=seed, model=model)
