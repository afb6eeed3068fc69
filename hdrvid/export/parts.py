"""The parts of a model ``hdrvid export --part`` writes, with their ONNX input and output names (torch-free)."""

INPUTS = {"full": ["linear"], "field": ["linear"], "context": ["linear"], "field_tile": ["linear", "context"],
         "condition": ["linear"], "denoise": ["residual", "timestep", "condition"], "refine": ["linear", "base"]}
PARTS: tuple[str, ...] = tuple(INPUTS)
"""What ``hdrvid export --part`` can write: the whole model, or the parts hdrvid runs for tiling/fast mode."""
OUTPUTS = {"full": "hdr", "field": "field", "context": "context", "field_tile": "field", "condition": "condition",
           "denoise": "eps", "refine": "hdr"}
