"""pmtui's benchmark suite: workloads over the sandbox emulators, measured against issue #11's targets.

``python -m benchmarks`` (or ``pmtui bench``) runs every case several times and prints the median, the
spread and the ratio to its target; ``--quick`` runs the same code paths at smaller sizes in under two
minutes. Results go to ``benchmarks/results/`` as JSON with a description of the machine.
"""
