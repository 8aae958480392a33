"""The SPARQL 1.1 Protocol endpoint's parts: request parsing, negotiation, evaluation."""
