"""alsim: in-silico clinical trials of antisense therapy (tofersen) in SOD1-ALS.

Data flows one way: model -> population -> design -> simulate -> analysis -> report.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("alsim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
