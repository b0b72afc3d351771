"""The engine: code generation, the compiled backprop engine, training, data and gradient checks."""
