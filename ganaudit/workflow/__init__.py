"""The workflow's side of the library: what the Snakefile and the scripts need, unit-tested here.

============  =============================================================================================
module        owns
============  =============================================================================================
`plan`        config checks, the image groups of a run, the params each job receives, the report's front page
`imports`     code inputs: the library files a script imports, transitively
`runtime`     what every script does first: logs, threads, seeds, the device
============  =============================================================================================
"""
