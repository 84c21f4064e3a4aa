"""What `make bench` measures our provider against: the floor (a no-op provider) and the naive one.

Not part of the package: the bench's Pulumi program and its provider host import these modules
through PYTHONPATH (the repository's root).
"""
