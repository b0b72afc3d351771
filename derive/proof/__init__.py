"""The proof: the prover, the generic identities and the step-by-step derivation."""
