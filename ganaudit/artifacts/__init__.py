"""Artifacts: what the stages write and read.

==============  ===========================================================================================
module          owns
==============  ===========================================================================================
`store`         HDF5 artifacts: atomic writes (`atomic`), provenance attrs, reads that refuse an incomplete file
`readers`       readers of pipeline artifacts: inversions with their originals, restart latents, model/group
                of a path
`tables`        tables as CSV + Markdown, written atomically
==============  ===========================================================================================
"""
