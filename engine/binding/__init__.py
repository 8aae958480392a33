"""The binding between the knowledge graph and ASP: predicates, terms, facts and parameters."""
