"""Small adapters putting swfast and its peers behind the same calls, one module per area."""
