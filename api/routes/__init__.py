"""HTTP routes, one router module per concept (sparql, ops, keys …)."""
