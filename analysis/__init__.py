"""Policy analysis on top of the model: scenario comparison, sensitivity analysis, policy search."""
