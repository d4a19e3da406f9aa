"""One module per client under test; each runs as ``python -m bench.drivers.NAME SPEC.json``.

Every driver performs the same workloads (``quotes``, ``orders``, ``dashboard``) the way its
library's documentation shows, prints ``START`` when the measured part begins and one
``RESULT {json}`` line at the end (see ``bench.harness``).
"""
