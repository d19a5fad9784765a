"""Scale-out on Ray: batch runs of a compiled program over many inputs, actor
pipelines with one Ray actor process per stage, and sparse work split into row blocks.

Ray is an optional extra (``pip install 'ccomp[ray]'``): nothing here imports it at
module level, so ``import ccomp`` (and the local runtime) never loads it; each entry
point calls :func:`ccomp.runtime.scaleout.ray_env.require_ray` first, which turns a
missing Ray into one clear error. What is and is not guaranteed: docs/scaleout.md.
"""
