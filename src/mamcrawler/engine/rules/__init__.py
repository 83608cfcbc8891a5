"""Rule trees, the rows they are evaluated over, and the two evaluators (reference and
durable-rules) that must agree."""
