"""The model: the rule registry, networks and their symbolic form, the built-in catalog."""
