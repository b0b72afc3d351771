"""Rendering: the reports of both pipelines (HTML with MathML, LaTeX, PDF, Markdown)."""
