"""The root Pulumi project's program: runs the quickstart in examples/quickstart.

Pulumi.yaml does not point `main:` at that directory because the two Python hosts would then
disagree on the relative `virtualenv: .venv`: the language host reads it from the project
root, the dynamic-provider host (pulumi-resource-pulumi-python) from the program directory.
With the program at the root, both find the same `.venv`.
"""

import runpy
from pathlib import Path

runpy.run_path(str(Path(__file__).parent / "examples" / "quickstart" / "__main__.py"), run_name="__main__")
