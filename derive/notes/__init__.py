"""The notes: reading hand-written LaTeX claims, giving them a meaning, checking and diagnosing them."""
